import Foundation
import FuzzHarnesses

#if TOPOGEN_FUZZ
    /// The harness of this fuzzing process, from `TOPOGEN_FUZZ_HARNESS` (libFuzzer owns the
    /// command line). An unknown name stops the process before the first input.
    ///
    /// For example: `TOPOGEN_FUZZ_HARNESS=iptables .build-fuzz/debug/topogen-fuzz corpus/`.
    private let selectedHarness: Harness = {
        let name = ProcessInfo.processInfo.environment["TOPOGEN_FUZZ_HARNESS"] ?? ""
        guard let harness = Harness(rawValue: name) else {
            let names = Harness.allCases.map(\.rawValue).joined(separator: ", ")
            FileHandle.standardError.write(
                Data("error: set TOPOGEN_FUZZ_HARNESS to one of: \(names)\n".utf8))
            exit(2)
        }
        return harness
    }()

    /// libFuzzer's entry point: runs the selected harness on one input. Findings are crashes,
    /// timeouts and allocations over the limits libFuzzer is given, not outcomes: refusing an
    /// input with a diagnostic is the expected behaviour.
    @_cdecl("LLVMFuzzerTestOneInput")
    public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
        let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
        _ = selectedHarness.run(bytes)
        return 0
    }

    /// libFuzzer's driver, the `main` of libFuzzer, which calls the callback once per input.
    @_silgen_name("LLVMFuzzerRunDriver")
    private func runFuzzerDriver(
        _ argc: UnsafeMutablePointer<CInt>,
        _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
        _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
    ) -> CInt

    /// The process's entry point. SwiftPM links an executable target's `main` to the symbol
    /// `<module>_main`, which `@main` would define; the fuzzer build defines it to hand the
    /// process to libFuzzer's driver, as libFuzzer's own `main` does.
    @_cdecl("topogen_fuzz_main")
    public func fuzzMain(
        _ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
    ) -> CInt {
        var count = argc
        var arguments = argv
        return runFuzzerDriver(&count, &arguments) { data, size in
            fuzzTestOneInput(data, size)
        }
    }
#else
    /// The replay tool: runs a harness on files, as the fuzzer would, and prints each outcome.
    ///
    /// For example: `swift run topogen-fuzz iptables Tests/Fixtures/fuzz/iptables/*` prints
    /// `Tests/Fixtures/fuzz/iptables/deep: <fuzz>:1: error: ...`.
    @main
    struct FuzzReplay {
        static func main() {
            let arguments = Array(CommandLine.arguments.dropFirst())
            guard let name = arguments.first, let harness = Harness(rawValue: name) else {
                let names = Harness.allCases.map(\.rawValue).joined(separator: "|")
                FileHandle.standardError.write(
                    Data("usage: topogen-fuzz \(names) FILE...\n".utf8))
                exit(64)
            }
            for path in arguments.dropFirst() {
                guard let data = FileManager.default.contents(atPath: path) else {
                    FileHandle.standardError.write(Data("error: cannot read '\(path)'\n".utf8))
                    exit(66)
                }
                let outcome = harness.run(Array(data))
                print("\(path): \(outcome)")
            }
        }
    }
#endif
