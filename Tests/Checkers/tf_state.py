#!/usr/bin/env python3
"""Apply a Terraform module to moto, and print what AWS and terraform then hold, for topogen diff.

    .venv/bin/python3 Tests/Checkers/tf_state.py --dir MODULE_DIR --out OUT_DIR [--ipv6]

The module (topogen's, `--target terraform -o MODULE_DIR`) is called from a root configuration
as terraform_oracle.py calls it, with the AWS provider from the mirror /opt/tf-plugins and every
endpoint at a moto server on loopback (its machinery is terraform_oracle.py's and aws_oracle.py's,
imported, not changed). In a fresh VPC (with an IPv6 block with --ipv6):
`terraform init`, `terraform apply` (once more, one call at a time, after moto's spurious
InvalidPermission.Duplicate, as the oracle does), then it writes
- OUT_DIR/describe-security-groups.json: `aws ec2 describe-security-groups --filters
  Name=vpc-id,Values=VPC`, by the real AWS CLI, as a user would run it against the live account;
- OUT_DIR/state.json: `terraform show -json` of the applied state;
- OUT_DIR/vpc-id: the VPC's id.
The caller (TerraformDiffEngineTests) diffs these against the model with topogen's readers.
Exit 0 when both are written; 2 on a usage or engine error (no terraform, no moto, apply failing).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import aws_oracle as ao   # noqa: E402
from aws_oracle import Usage   # noqa: E402
from terraform_oracle import PARALLELISM, SKIPS, Terraform, apply_env, make_root, tail   # noqa: E402


def main():
    ap = argparse.ArgumentParser(description='apply a module to moto and write what AWS and terraform hold')
    ap.add_argument('--dir', required=True, help="topogen's module (--target terraform -o DIR)")
    ap.add_argument('--out', required=True, help='where to write describe-security-groups.json and state.json')
    ap.add_argument('--ipv6', action='store_true', help='give the VPC an IPv6 block')
    o = ap.parse_args()
    module, out = os.path.abspath(o.dir), os.path.abspath(o.out)
    if not os.path.isfile(os.path.join(module, 'main.tf')):
        raise Usage(f'{module}: no main.tf')
    os.makedirs(out, exist_ok=True)
    import boto3
    start, timings = time.monotonic(), {}
    with tempfile.TemporaryDirectory(prefix='tf-state-') as tmp:
        tf = Terraform(tmp, timings)
        t = time.monotonic()
        proc, url = ao.start_moto(tmp)
        timings['moto start'] = time.monotonic() - t
        try:
            ec2 = boto3.client('ec2', endpoint_url=url, region_name='us-east-1',
                               aws_access_key_id='testing', aws_secret_access_key='testing')
            vpc = ec2.create_vpc(CidrBlock='10.0.0.0/16', AmazonProvidedIpv6CidrBlock=o.ipv6)['Vpc']['VpcId']
            root = os.path.join(tmp, 'root')
            make_root(root, module, '  access_key = "testing"\n  secret_key = "testing"\n' + SKIPS +
                      f'  endpoints {{\n    ec2 = "{url}"\n    sts = "{url}"\n    iam = "{url}"\n  }}\n', vpc)
            r = tf.run('init', root, 'init', '-input=false')
            if r.returncode:
                raise Usage(f'terraform init failed:\n{tail(r)}')
            r = tf.run('apply', root, 'apply', '-auto-approve', '-input=false', PARALLELISM)
            if r.returncode and 'InvalidPermission.Duplicate' in r.stdout + r.stderr:
                print('  apply failed with InvalidPermission.Duplicate (moto): once more, one call at a time')
                r = tf.run('apply', root, 'apply', '-auto-approve', '-input=false', '-parallelism=1')
            if r.returncode:
                raise Usage(f'terraform apply against moto failed:\n{tail(r)}')
            t = time.monotonic()
            env = apply_env(url, vpc, tmp)
            r = subprocess.run(['aws', 'ec2', 'describe-security-groups', '--filters', f'Name=vpc-id,Values={vpc}',
                                '--output', 'json'], env=env, capture_output=True, text=True, timeout=120,
                               stdin=subprocess.DEVNULL)
            timings['describe'] = time.monotonic() - t
            if r.returncode:
                raise Usage(f'aws ec2 describe-security-groups failed:\n{r.stderr.strip()}')
            described = json.loads(r.stdout)
            with open(os.path.join(out, 'describe-security-groups.json'), 'w') as f:
                f.write(r.stdout)
            state = tf.json('show', root)
            with open(os.path.join(out, 'state.json'), 'w') as f:
                json.dump(state, f, indent=1, sort_keys=True)
            with open(os.path.join(out, 'vpc-id'), 'w') as f:
                f.write(vpc + '\n')
        finally:
            proc.kill()
            proc.wait()
    groups = described.get('SecurityGroups', [])
    rules = sum(len(g.get(k) or []) for g in groups for k in ('IpPermissions', 'IpPermissionsEgress'))
    print(f'  timings: ' + ', '.join(f'{k} {v:.1f} s' for k, v in timings.items()) +
          f'; total {time.monotonic() - start:.1f} s')
    print(f'tf_state: applied {module} to moto (VPC {vpc}): {len(groups)} groups, {rules} permissions; '
          f'wrote describe-security-groups.json and state.json to {out}')
    return 0


if __name__ == '__main__':
    try:
        sys.exit(main())
    except Usage as e:
        print(f'tf_state: error: {e}', file=sys.stderr)
        sys.exit(2)
