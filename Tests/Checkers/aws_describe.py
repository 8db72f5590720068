#!/usr/bin/env python3
"""Applies topogen's apply.sh to moto and prints what the real AWS CLI describes, for `topogen diff`.

    .venv/bin/python3 Tests/Checkers/aws_describe.py --dir DIR --out OUT
                      [--existing sg-ID]... [--aws "ec2 ... <GROUP-NAME> ..."]... [--endpoint URL]

DIR holds apply.sh (`topogen generate --target aws ... -o DIR`, or a golden folder). The script
starts moto_server on a free loopback port (aws_oracle.py's machinery), creates a VPC (with an
IPv6 block), creates each --existing group (an external node's, which apply.sh references but does
not create) in it as `existing-<ID>` (moto cannot take an id: apply.sh runs on a copy that names
them by moto's ids), runs `sh apply.sh` in it with the venv's AWS CLI, and writes:
  OUT/describe-0.json  `aws ec2 describe-security-groups` of the whole account (every VPC: moto's
                       default VPC and its default group, the new VPC's default group, topogen's);
then, when --aws is given, runs each as an AWS CLI command (split like a shell; `<NAME>` is the
id of the group named NAME), and writes
  OUT/describe-1.json  the same describe after those changes.
Stdout: one JSON object {"vpc": VPC_ID, "groups": {NAME: ID, ...}, "existing": {ID: MOTO_ID, ...}}
for the groups of the VPC and the --existing groups.
The files are the CLI's stdout, unchanged: group ids, owner ids, references by GroupId.
Exit 0: written; 2: moto, apply.sh or a command failed (stderr says what).
"""
import argparse
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import aws_oracle  # noqa: E402  (start_moto, run_apply, Usage)


def main():
    ap = argparse.ArgumentParser(description='apply.sh into moto, then describe-security-groups')
    ap.add_argument('--dir', required=True, help='the directory with apply.sh')
    ap.add_argument('--out', required=True, help='where to write describe-0.json (and describe-1.json)')
    ap.add_argument('--aws', action='append', default=[],
                    help='an AWS CLI command to run after apply.sh, <NAME> standing for the id of the group NAME')
    ap.add_argument('--existing', action='append', default=[],
                    help='the id of an existing group that apply.sh references (an external node\'s)')
    ap.add_argument('--endpoint', help='a running moto server (default: start one)')
    o = ap.parse_args()
    o.dir = os.path.abspath(o.dir)
    if not os.path.isfile(os.path.join(o.dir, 'apply.sh')):
        raise aws_oracle.Usage(f'missing in {o.dir}: apply.sh')
    os.makedirs(o.out, exist_ok=True)
    aws = os.path.join(os.path.dirname(sys.executable), 'aws')
    with tempfile.TemporaryDirectory(prefix='aws-describe-') as tmp:
        proc, url = (None, o.endpoint) if o.endpoint else aws_oracle.start_moto(tmp)
        try:
            env = {k: v for k, v in os.environ.items() if not k.startswith('AWS_')}
            env.update(AWS_ENDPOINT_URL=url, AWS_ACCESS_KEY_ID='testing', AWS_SECRET_ACCESS_KEY='testing',
                       AWS_DEFAULT_REGION='us-east-1', AWS_REGION='us-east-1', AWS_EC2_METADATA_DISABLED='true',
                       AWS_CONFIG_FILE=os.path.join(tmp, 'none'),
                       AWS_SHARED_CREDENTIALS_FILE=os.path.join(tmp, 'none'), AWS_PAGER='',
                       PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get('PATH', ''))

            def cli(args):
                r = subprocess.run([aws] + args, env=env, capture_output=True, text=True, timeout=120,
                                   stdin=subprocess.DEVNULL)
                if r.returncode != 0:
                    raise aws_oracle.Usage(f'aws {" ".join(args)}: exit {r.returncode}\n{r.stderr.strip()}')
                return r.stdout

            vpc = json.loads(cli(['ec2', 'create-vpc', '--cidr-block', '10.0.0.0/16',
                                  '--amazon-provided-ipv6-cidr-block', '--output', 'json']))['Vpc']['VpcId']
            env['VPC_ID'] = vpc
            existing = {i: json.loads(cli(['ec2', 'create-security-group', '--group-name', f'existing-{i}',
                                           '--description', 'an existing group', '--vpc-id', vpc,
                                           '--output', 'json']))['GroupId'] for i in sorted(set(o.existing))}
            directory = o.dir
            if existing:
                directory = os.path.join(tmp, 'applied')
                os.makedirs(directory)
                with open(os.path.join(o.dir, 'apply.sh')) as f:
                    text = f.read()
                for i, m in existing.items():
                    text = re.sub(rf'\b{re.escape(i)}\b', m, text)
                with open(os.path.join(directory, 'apply.sh'), 'w') as f:
                    f.write(text)
            r, _ = aws_oracle.run_apply(directory, env)
            if r.returncode != 0:
                raise aws_oracle.Usage(f'apply.sh failed (exit {r.returncode}):\n{r.stderr.strip()}')
            describe = ['ec2', 'describe-security-groups', '--output', 'json']
            with open(os.path.join(o.out, 'describe-0.json'), 'w') as f:
                f.write(cli(describe))
            listed = json.loads(cli(['ec2', 'describe-security-groups', '--filters', f'Name=vpc-id,Values={vpc}',
                                     '--output', 'json']))['SecurityGroups']
            ids = {g['GroupName']: g['GroupId'] for g in listed}
            for command in o.aws:
                args = shlex.split(command)
                for name in re.findall(r'<([^<>\s]+)>', command):
                    if name not in ids:
                        raise aws_oracle.Usage(f'{command}: no group named {name!r} in {vpc}')
                args = [re.sub(r'<([^<>\s]+)>', lambda m: ids[m[1]], a) for a in args]
                cli(args)
            if o.aws:
                with open(os.path.join(o.out, 'describe-1.json'), 'w') as f:
                    f.write(cli(describe))
            print(json.dumps({'vpc': vpc, 'groups': ids, 'existing': existing}, sort_keys=True))
            return 0
        finally:
            if proc:
                proc.kill()
                proc.wait()


if __name__ == '__main__':
    try:
        sys.exit(main())
    except aws_oracle.Usage as e:
        print(f'aws describe: error: {e}', file=sys.stderr)
        sys.exit(2)
