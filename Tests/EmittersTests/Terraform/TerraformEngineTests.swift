import Foundation
import TestSupport
import Testing

/// Every Terraform golden, proven with the real `terraform` and AWS provider by
/// `Tests/Checkers/terraform_oracle.py`: `terraform fmt -check`, `init` from the machine's
/// provider mirror and `validate`; an offline `plan` (in an empty network namespace) whose
/// planned rules are exactly the groups `flows.md` implies and exactly the AWS target's
/// `security-groups.json`, which the AWS engine tests prove `apply.sh` creates. For the examples
/// that cover every kind of peer, the oracle also applies the module to a moto server on
/// loopback, re-plans (no drift), and compares the groups read back with those the AWS target's
/// `apply.sh` creates for the same example in the same moto: the two AWS targets are
/// equivalent. The moto round trip costs one to two minutes an example on this machine, so to
/// keep CI well within its time it runs on `aws` (prefix lists, both families, a custom port)
/// and, with the removal of a flow, on `with-kms` then `default`; the offline plan of every
/// other example is compared with its `security-groups.json`, which the AWS engine tests apply.
///
/// Needs terraform and its AWS provider, which machines of this kind come with
/// (`Scripts/bootstrap.sh --check` fails without them), and the Python checkers.
@Suite struct TerraformEngineTests {
    /// The examples applied to moto: between them every kind of peer and option.
    static let appliedToMoto: Set<String> = ["aws"]

    @Test(arguments: Example.all)
    func moduleValidatesPlansAndAppliesLikeApplySh(example: Example) throws {
        guard Self.appliedToMoto.contains(example.name) else {
            let result = try oracle(example: example, then: ["--no-moto"])
            #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
            #expect(result.stdout.contains("all as expected"), "\(result.stdout)")
            return
        }
        // Applied to moto: what AWS and terraform then hold is also read back by topogen diff.
        let out = FileManager.default.temporaryDirectory.appendingPathComponent(
            "topogen-tf-read-back-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        let result = try oracle(example: example, then: ["--describe-out", out.path])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("all as expected"), "\(result.stdout)")
        try TerraformDiffEngineTests.checkReadBack(out, example: example)
    }

    /// Dropping `--with-kms` from an applied module changes only the rules that carry the KMS
    /// flows.
    @Test func removingAFlowChangesOnlyItsRules() throws {
        let kms = try #require(Example.all.first { $0.name == "with-kms" })
        let plain = try #require(Example.all.first { $0.name == "default" })
        let result = try oracle(
            example: kms,
            then: [
                "--then-dir", plain.goldenFolder("terraform").path, "--then-args-file",
                plain.file.path,
            ])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("all as expected"), "\(result.stdout)")
    }

    private func oracle(example: Example, then: [String] = []) throws -> CommandResult {
        try Command.run(
            try Command.checker("python3"),
            [
                Repository.root.appendingPathComponent("Tests/Checkers/terraform_oracle.py").path,
                "--dir", example.goldenFolder("terraform").path,
                "--aws-dir", example.goldenFolder("aws").path,
                "--args-file", example.file.path,
            ] + then)
    }
}
