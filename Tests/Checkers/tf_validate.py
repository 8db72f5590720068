#!/usr/bin/env python3
"""terraform fmt -check and terraform validate, with the real AWS provider, on configurations.

    .venv/bin/python3 Tests/Checkers/tf_validate.py DIR [DIR ...]

Proves that the hand-written Terraform configurations the diff tests read are configurations
terraform itself accepts (the reader's tests would mean little on text terraform refuses). Each
DIR is copied into a temporary directory; terraform runs with its own CLI configuration, the AWS
provider coming from the machine's mirror /opt/tf-plugins as in terraform_oracle.py. To stay
fast, `init -backend=false` runs once, in the first copy; the others share its .terraform and
lock file (every DIR must require the same providers and call no module). Then, in each (two
at a time):
`terraform fmt -check -diff` and `terraform validate -json`, which must report no error and no
warning.
Exit 0: every DIR is accepted; 1: some is not (listed); 2: usage or engine error (no terraform,
the provider not in the mirror, init failing).
"""
import concurrent.futures
import json
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from aws_oracle import Usage   # noqa: E402
from terraform_oracle import IGNORE, Terraform, tail   # noqa: E402


def main(dirs):
    if not dirs:
        raise Usage('give the directories to validate')
    for d in dirs:
        if not os.path.isdir(d) or not any(f.endswith('.tf') for f in os.listdir(d)):
            raise Usage(f'{d}: not a directory of .tf files')
    start, timings, problems = time.monotonic(), {}, []
    with tempfile.TemporaryDirectory(prefix='tf-validate-') as tmp:
        tf = Terraform(tmp, timings)
        copies = []
        for i, d in enumerate(dirs):
            copy = os.path.join(tmp, f'{i}-{os.path.basename(os.path.normpath(d))}')
            shutil.copytree(d, copy, ignore=IGNORE)
            copies.append((d, copy))
        first = copies[0][1]
        r = tf.run('init', first, 'init', '-backend=false', '-input=false')
        if r.returncode:
            raise Usage(f'terraform init -backend=false in {copies[0][0]} failed:\n{tail(r)}')
        if 'from the shared cache directory' not in r.stdout:
            raise Usage(f'terraform init did not use the provider mirror:\n{r.stdout}{r.stderr}')
        for d, copy in copies[1:]:
            os.symlink(os.path.join(first, '.terraform'), os.path.join(copy, '.terraform'))
            shutil.copy(os.path.join(first, '.terraform.lock.hcl'), copy)
        def check(item):
            d, copy = item
            found = []
            r = tf.run('fmt', copy, 'fmt', '-check', '-diff', '-recursive', '.')
            fmt_ok = r.returncode == 0
            if not fmt_ok:
                found.append(f'{d}: terraform fmt -check: exit {r.returncode}\n      {tail(r, 40)}')
            r = tf.run('validate', copy, 'validate', '-json')
            try:
                report = json.loads(r.stdout)
            except ValueError:
                return [f'{d}: terraform validate -json printed no JSON:\n      {tail(r)}'], fmt_ok, False
            for diag in report.get('diagnostics', []):
                where = diag.get('range') or {}
                line = (where.get('start') or {}).get('line')
                found.append(f'{d}/{where.get("filename", "?")}:{line}: {diag.get("severity")}: '
                             f'{diag.get("summary")}: {diag.get("detail", "")}')
            valid = bool(report.get('valid')) and not report.get('diagnostics')
            if not report.get('valid') and not report.get('diagnostics'):
                found.append(f'{d}: terraform validate: not valid')
            return found, fmt_ok, valid

        # Two at a time: validate spends its time loading the provider's schema.
        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
            for (d, _), (found, fmt_ok, valid) in zip(copies, pool.map(check, copies)):
                problems += found
                print(f'  {d}: fmt {"ok" if fmt_ok else "FAIL"}, validate {"ok" if valid else "FAIL"}', flush=True)
    print('  timings: ' + ', '.join(f'{k} {v:.1f} s' for k, v in timings.items()) +
          f'; total {time.monotonic() - start:.1f} s')
    if problems:
        print(f'tf_validate: {len(problems)} problems')
        for p in problems:
            print(f'  PROBLEM  {p}')
        return 1
    print(f'tf_validate: {len(dirs)} configurations accepted by terraform fmt and validate')
    return 0


if __name__ == '__main__':
    try:
        sys.exit(main(sys.argv[1:]))
    except Usage as e:
        print(f'tf_validate: error: {e}', file=sys.stderr)
        sys.exit(2)
