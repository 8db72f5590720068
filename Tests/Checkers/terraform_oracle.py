#!/usr/bin/env python3
"""Independent oracle for topogen's Terraform module: terraform, the real AWS provider, moto.

    .venv/bin/python3 Tests/Checkers/terraform_oracle.py --dir MODULE_DIR --aws-dir AWS_DIR
        (--args-file F | --args "..." | --topology F) [--then-dir MODULE_DIR2 (--then-args-file F2 | --then-args "...")]
        [--no-moto] [--describe-out DIR]

aws_oracle.py (imported) parses the topogen arguments, derives the expected rules from flows.md,
normalises groups into (node, dir, proto, from, to, peer kind, peer, description), runs moto and
apply.sh. terraform gets its own CLI config: the provider comes from the mirror /opt/tf-plugins.
1. fmt -check -recursive; a root configuration calls a copy of the module; init (must use the
   cached provider); validate.
2. Offline plan inside an empty netns of our own (fake credentials, every skip_*). Group ids are
   unknown at plan time, so a second offline plan runs on a state holding the planned groups under
   fake ids (they must plan as no-op): each rule's security_group_id and referenced_security_group_id
   is then known and mapped to a group name; nothing of the module's keys or expressions is trusted.
   Rules against the model and against security-groups.json (descriptions included); one peer per
   rule; keys "FLOW PROTO/PORTS PEER" (FLOW one of the rule's flows or its group; never an index);
   groups' names, descriptions, tags, VPC; outputs; vpc_id's default only with --vpc-id.
3. moto: a VPC (IPv6 as aws_oracle decides), apply (-parallelism=4; after an InvalidPermission.
   Duplicate once more with 1), re-plan -detailed-exitcode (moto 5.2.1 returns no description for
   rules to groups or prefix lists in DescribeSecurityGroupRules, which the provider reads: such
   description-only updates are tolerated when DescribeSecurityGroups holds the description), then
   apply.sh in a second VPC: both equal group by group (rules, descriptions, tags), and the model.
4. --then-dir: the applied module replaced by MODULE_DIR2, plan: only rules carrying the removed
   flows change (destroyed when no flow is left, description updated when some are), no group
   changes, no re-keyed rule, and the planned rules are the second model.
Exit 0 as expected, 1 mismatches (listed), 2 usage or engine error (no terraform, provider not in
the mirror, no netns, moto or apply.sh failing).
"""
import argparse
import collections
import contextlib
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import aws_oracle as ao   # noqa: E402
from aws_oracle import Usage   # noqa: E402

MIRROR = '/opt/tf-plugins'
PROVIDER = 'registry.terraform.io/hashicorp/aws'
RULE_TYPES = {'aws_vpc_security_group_ingress_rule': 'ingress', 'aws_vpc_security_group_egress_rule': 'egress'}
PEERS = (('cidr_ipv4', 'ipv4'), ('cidr_ipv6', 'ipv6'), ('prefix_list_id', 'prefix-list'),
         ('referenced_security_group_id', 'group'))
PARALLELISM = '-parallelism=4'
IGNORE = shutil.ignore_patterns('.terraform*', '*.tfstate*')
SKIPS = '''  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
'''


def say(line):
    print(f'  {line}', flush=True)


class Stop(Exception):
    """A step failed in a way that makes the following steps meaningless (already reported)."""


# ---------------------------------------------------------------- terraform
class Terraform:
    def __init__(self, tmp, timings):
        if not shutil.which('terraform'):
            raise Usage('terraform not found on PATH')
        if not glob.glob(f'{MIRROR}/{PROVIDER}/*/linux_amd64/terraform-provider-aws_*'):
            raise Usage(f'the AWS provider is not in the mirror {MIRROR}/{PROVIDER}')
        self.rc, self.timings = os.path.join(tmp, 'tf.rc'), timings
        with open(self.rc, 'w') as f:
            f.write(f'plugin_cache_dir = "{MIRROR}"\nplugin_cache_may_break_dependency_lock_file = true\n'
                    f'provider_installation {{\n  filesystem_mirror {{\n    path    = "{MIRROR}"\n'
                    f'    include = ["{PROVIDER}"]\n  }}\n  direct {{ exclude = ["{PROVIDER}"] }}\n}}\n')
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(('TF_', 'AWS_'))}
        self.env.update(TF_CLI_CONFIG_FILE=self.rc, TF_IN_AUTOMATION='1', TF_INPUT='0', CHECKPOINT_DISABLE='1',
                        AWS_EC2_METADATA_DISABLED='true', AWS_CONFIG_FILE=os.devnull,
                        AWS_SHARED_CREDENTIALS_FILE=os.devnull)

    def run(self, step, cwd, *args, prefix=(), timeout=900):
        t = time.monotonic()
        try:
            r = subprocess.run([*prefix, 'terraform', *args, '-no-color'], cwd=cwd, env=self.env, text=True,
                               capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise Usage(f'terraform {args[0]} did not finish within {timeout} s')
        self.timings[step] = self.timings.get(step, 0) + time.monotonic() - t
        return r

    def json(self, step, cwd, *args):
        r = self.run(step, cwd, 'show', '-json', *args)
        if r.returncode:
            raise Usage(f'terraform show -json {" ".join(args)}: {r.stderr.strip()}')
        return json.loads(r.stdout)


def tail(r, n=25):
    lines = [ln for ln in (r.stderr if r.stderr.strip() else r.stdout).splitlines() if ln.strip()]
    return '\n      '.join(lines[-n:])


def make_root(root, module_dir, provider, vpc_id, a=None, ids=None):
    """A root configuration calling a copy of the module; with ids ({existing group id: moto's}), the
    module's variables of existing groups are given moto's ids."""
    shutil.copytree(module_dir, os.path.join(root, 'module'), ignore=IGNORE)
    given = ''
    for node, groups in sorted((a.sgs if a and ids else {}).items()):
        values = ', '.join(f'"{ids[i]}"' for i in groups)
        given += f'  {node.replace("-", "_")}_security_group_ids = [{values}]\n'
    with open(os.path.join(root, 'main.tf'), 'w') as f:
        f.write(f'provider "aws" {{\n  region     = "us-east-1"\n{provider}}}\n\nmodule "sg" {{\n'
                f'  source = "./module"\n' + (f'  vpc_id = "{vpc_id}"\n' if vpc_id else '') + given +
                '}\n\noutput "sg" {\n  value = module.sg\n}\n')


def init(tf, root, step, out):
    r = tf.run(step, root, 'init', '-input=false')
    if r.returncode:
        out.append(('init', f'terraform init failed:\n      {tail(r)}'))
        raise Stop
    m = re.search(r'Using hashicorp/aws v(\S+) from the shared cache directory', r.stdout)
    if not m:
        raise Usage(f'terraform init did not use the cached provider of {MIRROR}:\n{r.stdout}{r.stderr}')
    return m[1]


@contextlib.contextmanager
def empty_netns():
    name = f'tforacle{os.getpid()}'
    if not shutil.which('ip'):
        raise Usage('ip (iproute2) not found: the offline plan runs in an empty network namespace')
    r = subprocess.run(['ip', 'netns', 'add', name], capture_output=True, text=True)
    if r.returncode:
        raise Usage(f'ip netns add {name}: {r.stderr.strip()} (the offline plan needs root and iproute2)')
    try:
        links = subprocess.run(['ip', '-n', name, '-o', 'link'], capture_output=True, text=True).stdout
        if [ln.split(':')[1].strip() for ln in links.splitlines()] != ['lo'] or 'state DOWN' not in links:
            raise Usage(f'netns {name} is not empty: {links}')
        yield ['ip', 'netns', 'exec', name]
    finally:
        subprocess.run(['ip', 'netns', 'del', name], capture_output=True)


def resources(values):
    out, stack = [], [values.get('root_module', {})]
    while stack:
        m = stack.pop()
        out += [r for r in m.get('resources', []) if r['address'].startswith('module.sg.')]
        stack += m.get('child_modules', [])
    return sorted(out, key=lambda r: r['address'])


# ---------------------------------------------------------------- normalisation
def rule_of(a, r, names):
    """(node, dir, proto, from, to, kind, peer, description) of a rule resource; ids through names."""
    v = r['values']
    peers = [(kind, v[f]) for f, kind in PEERS if v.get(f) is not None]
    kind, peer = peers[0] if len(peers) == 1 else ('?', repr(peers))
    if kind == 'group':
        name = names.get(peer, peer)
        if name in a.existing_names or name in a.existing:
            kind, peer = 'sg', a.existing_names.get(name, name)
        else:
            peer = ao.node_of(a, name)
    lo, hi = (-1 if v.get(p) is None else v[p] for p in ('from_port', 'to_port'))
    return (ao.node_of(a, names.get(v.get('security_group_id'), str(v.get('security_group_id')))),
            RULE_TYPES[r['type']], str(v.get('ip_protocol')), lo, hi, kind, peer, v.get('description'))


def flows_of(rule, expected):
    return sorted({e[7] for e in expected if e[:3] + e[5:7] == rule[:3] + rule[5:7] and e[3] <= rule[4]
                   and rule[3] <= e[4]})


def compare_sets(a, got, want, tag, what):
    """Rule tuples (descriptions included) in one list and not the other: [(node, line)]."""
    g, w = set(got), set(want)
    out = [(x[0], f'[{tag}] {ao.fmt_rule(a, x)} description {ao.short(x[7])}: {side}')
           for rs, side in ((w - g, f'in {what}, not in the module'), (g - w, f'in the module, not in {what}'))
           for x in sorted(rs, key=str)]
    same = collections.Counter(x[:7] for x in got)   # AWS rejects the second (moto only if descriptions match)
    return out + [(x[0], f'[{tag}] {ao.fmt_rule(a, x)}: {n} rules of the same group, protocol, ports and peer')
                  for x, n in sorted(same.items(), key=str) if n > 1]


def group_view(groups):
    """{name: (description, tags)} of groups in describe-security-groups form (the JSON's, moto's)."""
    return {g.get('GroupName'): (g.get('Description'), {t.get('Key'): t.get('Value') for t in g.get('Tags') or []})
            for g in groups}


def compare_groups(a, tag, got, want, what):
    out = [('document', f'[{tag}] groups {sorted(got)}, {what} {sorted(want)}')] if sorted(got) != sorted(want) else []
    show = lambda v: sorted(v.items()) if isinstance(v, dict) else repr(v)   # noqa: E731
    return out + [(ao.node_of(a, n), f'[{tag}] group {field} {show(got[n][i])}, {what} {show(want[n][i])}')
                  for n in sorted(set(got) & set(want)) for i, field in enumerate(('description', 'tags'))
                  if got[n][i] != want[n][i]]


# ---------------------------------------------------------------- step 1 and 2: fmt, validate, offline plan
def offline(a, o, doc, expected, tf, tmp, out, info):
    r = tf.run('fmt', o.dir, 'fmt', '-check', '-recursive', '-diff', '.')
    if r.returncode:
        out.append(('fmt', f'terraform fmt -check -recursive: exit {r.returncode}\n      {tail(r, 40)}'))
    say(f'1. fmt -check -recursive: {"FAIL" if r.returncode else "ok"}')
    root = os.path.join(tmp, 'offline')
    provider = '  access_key = "offline"\n  secret_key = "offline"\n  skip_requesting_account_id  = true\n' + SKIPS
    make_root(root, o.dir, provider, None if a.vpc_id else 'vpc-0123456789abcdef0')
    info['provider'] = init(tf, root, 'init', out)
    say(f'1. init: hashicorp/aws v{info["provider"]} from the shared cache {MIRROR} (linked, not copied)')
    r = tf.run('validate', root, 'validate')
    if r.returncode:
        out.append(('validate', f'terraform validate failed:\n      {tail(r)}'))
        raise Stop
    say('1. validate: ok')
    plans = []
    with empty_netns() as ns:
        for seeded in (False, True):
            r = tf.run('offline plan', root, 'plan', '-refresh=false', '-input=false', '-out=plan.bin', prefix=ns)
            if r.returncode:
                out.append(('plan', f'offline plan failed{" (seeded)" if seeded else ""}:\n      {tail(r)}'))
                raise Stop
            plans.append(tf.json('offline plan', root, 'plan.bin'))
            if not seeded:   # the planned groups, under fake ids, as the state of the second plan
                groups = [g for g in resources(plans[0]['planned_values']) if g['type'] == 'aws_security_group']
                ids = {f'sg-{i:017x}': g['values'].get('name') for i, g in enumerate(groups)}
                blocks = {}
                for sid, g in zip(ids, groups):
                    blocks.setdefault(g['address'][:g['address'].index('.aws_security_group.')] + ' ' + g['name'], []) \
                        .append({'index_key': g.get('index'), 'schema_version': g['schema_version'],
                                 'attributes': {**g['values'], 'id': sid, 'egress': [], 'ingress': []}})
                state = {'version': 4, 'terraform_version': plans[0]['terraform_version'], 'serial': 1,
                         'lineage': '00000000-0000-4000-8000-000000000000', 'outputs': {}, 'resources': [
                             {'module': b.split()[0], 'mode': 'managed', 'type': 'aws_security_group',
                              'name': b.split()[1], 'provider': f'provider["{PROVIDER}"]', 'instances': inst}
                             for b, inst in blocks.items()]}
                with open(os.path.join(root, 'terraform.tfstate'), 'w') as f:
                    json.dump(state, f)
    fresh, seeded = plans
    say(f'2. offline plan in the empty netns: {len(fresh["resource_changes"])} to create; again on a seeded state of '
        f'the groups under fake ids: group ids known')
    n0 = len(out)
    for rc in fresh['resource_changes']:
        if rc['change']['actions'] != ['create']:
            out.append(('plan', f'{rc["address"]}: {rc["change"]["actions"]} in a plan from nothing'))
    for rc in seeded['resource_changes']:
        if rc['type'] == 'aws_security_group' and rc['change']['actions'] != ['no-op']:
            out.append(('plan', f'{rc["address"]}: {rc["change"]["actions"]} on a state of exactly the planned group'))
    # groups: names, descriptions, tags, VPC
    out += compare_groups(a, 'plan', {g['values'].get('name'): (g['values'].get('description'), g['values'].get(
        'tags') or {}) for g in groups}, group_view(doc['SecurityGroups']), 'security-groups.json')
    vpc = a.vpc_id or 'vpc-0123456789abcdef0'
    out += [(ao.node_of(a, g['values'].get('name')), f'[plan] vpc_id {g["values"].get("vpc_id")!r}, expected {vpc!r}')
            for g in groups if g['values'].get('vpc_id') != vpc]
    mod = fresh['configuration']['root_module']['module_calls']['sg']['module']
    vdef = mod.get('variables', {}).get('vpc_id', {}).get('default')
    if vdef != a.vpc_id:
        out.append(('variables', f'variable vpc_id default {vdef!r}, expected {a.vpc_id!r} (--vpc-id)'))
    outs = sorted(mod.get('outputs', {}))
    want_outs = sorted([f'{n.replace("-", "_")}_security_group_id' for n in a.grouped] + ['security_group_ids'])
    if not set(want_outs) <= set(outs):
        out.append(('outputs', f'outputs {outs}, expected at least {want_outs}'))
    # rules, with group ids known through the seeded state
    res = [r for r in resources(seeded['planned_values']) if r['type'] in RULE_TYPES]
    others = [r['address'] for r in resources(seeded['planned_values'])
              if r['type'] not in RULE_TYPES and r['type'] != 'aws_security_group']
    if others:
        out.append(('plan', f'resources that are neither groups nor rules: {others}'))
    rules = [rule_of(a, r, ids) for r in res]
    if sorted(r['address'] for r in resources(fresh['planned_values']) if r['type'] in RULE_TYPES) != \
            sorted(r['address'] for r in res):
        out.append(('plan', 'the seeded plan has other rules than the plan from nothing'))
    for r, x in zip(res, rules):
        n = sum(r['values'].get(f) is not None for f, _ in PEERS)
        if n != 1:
            out.append((x[0], f'[plan] {r["address"]}: {n} peers (cidr_ipv4, cidr_ipv6, prefix_list_id, '
                              f'referenced_security_group_id), expected exactly one'))
        key, fl = r.get('index'), flows_of(x, expected)
        ports = f'{x[2]}/{ao.fmt_ports(x[2], [(x[3], x[4])])}'
        if not isinstance(key, str) or re.fullmatch(r'\d+', key) or (fl and not re.fullmatch(
                f'({"|".join(map(re.escape, fl + [x[0]]))}) ({re.escape(ports)} {re.escape(str(x[6]))})', key)):
            out.append((x[0], f'[plan] {r["address"]}: for_each key {key!r}, expected "FLOW {ports} {x[6]}", '
                              f'FLOW one of the rule\'s flows {fl} (or its group {x[0]})'))
    out += compare_sets(a, rules, ao.rules_of(a, doc['SecurityGroups']), 'plan vs JSON', 'security-groups.json')
    out += [(n, f'[plan vs model] {x}') for n, x in ao.compare_model(a, rules, expected) +
            ao.check_descriptions(a, rules, expected)]
    out += [('named', f'[plan] {n}: {"; ".join(v)}') for n, v in ao.named_checks(a, rules) if v]
    info['rules'] = len(rules)
    say(f'2. {len(groups)} groups, {len(rules)} rules vs the model and security-groups.json (rules, descriptions, '
        f'groups, tags), peers, keys, outputs: {len(out) - n0 or "no"} mismatches')


# ---------------------------------------------------------------- step 3 and 4: moto
def apply_env(url, vpc, tmp):
    env = {k: v for k, v in os.environ.items() if not k.startswith('AWS_')}
    env.update(VPC_ID=vpc, AWS_ENDPOINT_URL=url, AWS_ACCESS_KEY_ID='testing', AWS_SECRET_ACCESS_KEY='testing',
               AWS_DEFAULT_REGION='us-east-1', AWS_REGION='us-east-1', AWS_EC2_METADATA_DISABLED='true',
               AWS_CONFIG_FILE=os.path.join(tmp, 'none'), AWS_SHARED_CREDENTIALS_FILE=os.path.join(tmp, 'none'),
               PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get('PATH', ''))
    return env


def changed(ch):
    b, a, u = ch['before'] or {}, ch['after'] or {}, ch['after_unknown'] or {}
    return sorted(k for k in set(a) | set(b) if b.get(k) != a.get(k) or u.get(k) is True)


def moto_quirk(rc):
    """An update of only the description, from none, of a rule to a group or a prefix list: moto 5.2.1's
    DescribeSecurityGroupRules, which the provider reads, returns descriptions of CIDR rules only."""
    b = rc['change']['before'] or {}
    return rc['type'] in RULE_TYPES and rc['change']['actions'] == ['update'] and b.get('description') is None \
        and changed(rc['change']) == ['description'] and bool(b.get('referenced_security_group_id') or
                                                               b.get('prefix_list_id'))


def write_read_back(directory, tf, root, url, vpc, tmp, ids):
    """--describe-out: what AWS and terraform hold after the apply, for topogen diff's tests:
    describe-security-groups.json (`aws ec2 describe-security-groups --filters Name=vpc-id,...` by
    the real AWS CLI, as a user would run it), state.json (`terraform show -json`), vpc-id, and
    existing-groups.json ({the topology's id of an existing group: moto's}, {} without any)."""
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, 'existing-groups.json'), 'w') as f:
        json.dump(ids, f, indent=1, sort_keys=True)
    r = subprocess.run(['aws', 'ec2', 'describe-security-groups', '--filters', f'Name=vpc-id,Values={vpc}',
                        '--output', 'json'], env=apply_env(url, vpc, tmp), capture_output=True, text=True,
                       timeout=120, stdin=subprocess.DEVNULL)
    if r.returncode:
        raise Usage(f'aws ec2 describe-security-groups failed:\n{r.stderr.strip()}')
    with open(os.path.join(directory, 'describe-security-groups.json'), 'w') as f:
        f.write(r.stdout)
    with open(os.path.join(directory, 'state.json'), 'w') as f:
        json.dump(tf.json('show', root), f, indent=1, sort_keys=True)
    with open(os.path.join(directory, 'vpc-id'), 'w') as f:
        f.write(vpc + '\n')


def moto(a, o, doc, expected, tf, tmp, out, info):
    import boto3
    import botocore.exceptions
    counts = collections.Counter(x[:2] for x in ao.rules_of(a, doc['SecurityGroups']))
    over = [f'{n} {d}: {c}' for (n, d), c in sorted(counts.items()) if c > ao.MOTO_LIMIT]
    if over:
        raise Usage(f"beyond moto's limit of {ao.MOTO_LIMIT} rules per direction: {'; '.join(over)}; use --no-moto")
    t = time.monotonic()
    proc, url = ao.start_moto(tmp)
    tf.timings['moto start'] = time.monotonic() - t
    try:
        ec2 = boto3.client('ec2', endpoint_url=url, region_name='us-east-1',
                           aws_access_key_id='testing', aws_secret_access_key='testing')
        v6 = any(p.get('Ipv6Ranges') for g in doc['SecurityGroups'] for k, _, _ in ao.DIRS   # as aws_oracle
                 for p in g.get(k) or [] if isinstance(p, dict))
        vpcs = [ec2.create_vpc(CidrBlock='10.0.0.0/16', AmazonProvidedIpv6CidrBlock=v6)['Vpc']['VpcId']
                for _ in range(2)]
        root = os.path.join(tmp, 'moto')
        tf_ids = ao.with_existing_groups(a, ec2, vpcs[0], o.aws_dir, tmp)[1]
        aws_dir = ao.with_existing_groups(a, ec2, vpcs[1], o.aws_dir, tmp)[0]
        make_root(root, o.dir, '  access_key = "testing"\n  secret_key = "testing"\n' + SKIPS +
                  f'  endpoints {{\n    ec2 = "{url}"\n    sts = "{url}"\n    iam = "{url}"\n  }}\n', vpcs[0],
                  a, tf_ids)
        init(tf, root, 'moto init', out)
        r = tf.run('moto apply', root, 'apply', '-auto-approve', '-input=false', PARALLELISM)
        if r.returncode and 'InvalidPermission.Duplicate' in r.stdout + r.stderr:   # the reference saw a spurious
            say('3. moto: apply failed with InvalidPermission.Duplicate: once more, one call at a time')   # one
            r = tf.run('moto apply', root, 'apply', '-auto-approve', '-input=false', '-parallelism=1')
        if r.returncode:
            out.append(('moto', f'terraform apply against moto failed:\n      {tail(r)}'))
            raise Stop
        r = tf.run('re-plan', root, 'plan', '-detailed-exitcode', '-input=false', '-out=replan.bin', PARALLELISM)
        if r.returncode not in (0, 2):
            out.append(('moto', f're-plan after apply failed:\n      {tail(r)}'))
            raise Stop
        replan = tf.json('re-plan', root, 'replan.bin') if r.returncode else {'resource_changes': []}
        if o.describe_out:
            write_read_back(o.describe_out, tf, root, url, vpcs[0], tmp, tf_ids)
        names = {g['GroupId']: g['GroupName'] for g in ec2.describe_security_groups()['SecurityGroups']}
        tf_groups = ao.snapshot(ec2, vpcs[0])[0]
        tf_rules = ao.rules_of(a, tf_groups, names)
        stored, quirks, drift = {x[:7]: x[7] for x in tf_rules}, [], []
        for rc in replan['resource_changes']:
            if rc['change']['actions'] == ['no-op']:
                continue
            if moto_quirk(rc):
                x = rule_of(a, {'type': rc['type'], 'values': {**rc['change']['before'], 'description': rc[
                    'change']['after']['description']}}, names)
                if x[5] == 'prefix-list' or stored.get(x[:7]) == x[7]:   # moto drops prefix lists' everywhere
                    quirks.append(rc['address'])
                    continue
            drift.append(f'{rc["address"]}: {"/".join(rc["change"]["actions"])} of {changed(rc["change"])}')
        if drift:
            out.append(('moto', 're-plan after apply: changes, expected none (drift)\n      ' + '\n      '.join(drift)))
        info['quirks'] = len(quirks)
        say(f'3. moto: terraform apply ok: {len(tf_groups)} groups, {len(tf_rules)} rules; re-plan: '
            f'{len(drift) or "no"} drift' + (f' ({len(quirks)} description-only updates from moto, see the note)'
                                              if quirks else ''))
        r, t_sh = ao.run_apply(aws_dir, apply_env(url, vpcs[1], tmp))
        tf.timings['apply.sh'] = t_sh
        if r.returncode:
            raise Usage(f'apply.sh failed (exit {r.returncode}):\n{r.stderr.strip()}')
        sh_groups = ao.snapshot(ec2, vpcs[1])[0]
        names.update({g['GroupId']: g['GroupName'] for g in sh_groups})
        sh_rules, n0 = ao.rules_of(a, sh_groups, names), len(out)
        out += compare_sets(a, tf_rules, sh_rules, 'moto: terraform vs apply.sh', "apply.sh's groups")
        out += compare_groups(a, 'moto: terraform vs apply.sh', group_view(tf_groups), group_view(sh_groups),
                              "apply.sh's")
        out += [(n, f'[moto vs model] {x}') for n, x in ao.compare_model(a, tf_rules, expected)]
        say(f'3. moto: apply.sh in a second VPC: {len(sh_groups)} groups, {len(sh_rules)} rules; terraform\'s vs '
            f'apply.sh\'s groups, rules, descriptions, tags, and the model: {len(out) - n0 or "no"} mismatches')
        r = tf.run('output', root, 'output', '-json', 'sg')
        outs = json.loads(r.stdout) if r.returncode == 0 else {}
        want = {n: i for i, n in names.items() if i in {g['GroupId'] for g in tf_groups}}
        for node in a.grouped:
            gid = want.get(f'{a.name_prefix}-{node}')
            if outs.get(f'{node.replace("-", "_")}_security_group_id') != gid or (outs.get('security_group_ids') or {}).get(node) != gid:
                out.append(('outputs', f'{node}_security_group_id / security_group_ids["{node}"] are not {gid}'))
        if o.then_dir:
            then(a, o, expected, tf, root, names, out, info)
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:
        raise Usage(f'moto at {url}: {e}')
    finally:
        proc.kill()
        proc.wait()


def then(a, o, expected, tf, root, names, out, info):
    a2 = ao.parse_topogen_args(o.then_targs)
    exp2 = ao.expected_rules(a2)
    removed, added = expected - exp2, exp2 - expected
    gone = sorted({e[7] for e in removed} - {e[7] for e in exp2})
    shutil.rmtree(os.path.join(root, 'module'))
    shutil.copytree(o.then_dir, os.path.join(root, 'module'), ignore=IGNORE)
    r = tf.run('then plan', root, 'plan', '-detailed-exitcode', '-input=false', '-out=then.bin', PARALLELISM)
    if r.returncode not in (0, 2):
        out.append(('then', f'terraform plan with {o.then_dir} failed:\n      {tail(r)}'))
        return
    plan = tf.json('then plan', root, 'then.bin')
    changes, bad = {'delete': [], 'update': []}, collections.defaultdict(list)
    for rc in plan['resource_changes']:
        acts, ch = rc['change']['actions'], rc['change']
        if acts in (['no-op'], ['read']):
            continue
        if rc['type'] not in RULE_TYPES:
            out.append(('then', f'{rc["address"]}: {"/".join(acts)}, expected no change'))
            continue
        x = rule_of(a, {'type': rc['type'], 'values': ch['before'] or ch['after']}, names)
        carried, left = flows_of(x, removed), flows_of(x, exp2)
        diff = changed(ch)
        if not carried and moto_quirk(rc):
            continue
        what = f'{rc["address"]} ({ao.fmt_rule(a, x)} on {x[0]}, flows {flows_of(x, expected) or "none"})'
        if acts == ['delete'] and carried and not left:
            changes['delete'].append(what)
        elif acts == ['update'] and carried and left and diff == ['description']:
            changes['update'].append(f'{what}: description now {ch["after"]["description"]!r}')
        elif acts == ['create'] and flows_of(x, added) and not flows_of(x, expected):
            changes.setdefault('create', []).append(what)
        else:
            bad[x[:7]].append((rc['address'], '/'.join(acts) + (f' of {diff}' if acts == ['update'] else ''),
                               carried, left, what))
    for k, v in sorted(bad.items(), key=str):
        v.sort(key=lambda y: y[1])
        if [y[1] for y in v] == ['create', 'delete']:   # the same rule under a new key
            out.append(('then', f'{ao.fmt_rule(a, k)} on {k[0]}: destroyed as {v[1][0]} and created again as '
                                f'{v[0][0]}, although flows {v[0][3]} remain (re-keyed: a gap, and a new rule id)'))
        else:
            out += [('then', f'{w}: {act}; removed flows it carries {c or "none"}, flows left {lf or "none"}')
                    for _, act, c, lf, w in v]
    after = [r for r in resources(plan['planned_values']) if r['type'] in RULE_TYPES]
    rules2 = [rule_of(a, r, names) for r in after]
    out += [(n, f'[then plan vs model] {x}') for n, x in ao.compare_model(a2, rules2, exp2) +
            ao.check_descriptions(a2, rules2, exp2)]
    info['then'] = (gone, changes)


# ---------------------------------------------------------------- main
def read_targs(path, string):   # as aws_oracle: '#' lines ignored, the others split on whitespace
    if path and path.endswith(ao.TOPOLOGY_SUFFIXES):   # an example that is a topology file
        return ['--topology', path]
    try:
        with open(path or os.devnull) as f:
            return [t for ln in f if not ln.lstrip().startswith('#') for t in ln.split()] if path else string.split()
    except OSError as e:
        raise Usage(str(e))


def main():
    ap = argparse.ArgumentParser(description='Terraform module oracle (terraform, AWS provider, moto) for topogen')
    ap.add_argument('--dir', required=True, help="topogen's module (--target terraform -o DIR)")
    ap.add_argument('--aws-dir', required=True, help="the AWS target's directory for the same arguments")
    ap.add_argument('--then-dir', help='the module of the same installation with a flow fewer')
    for pre, req in (('', True), ('then-', False)):
        g = ap.add_mutually_exclusive_group(required=req)
        g.add_argument(f'--{pre}args-file')
        g.add_argument(f'--{pre}args', dest=f'{pre.replace("-", "_")}args_string')
        if not pre:
            g.add_argument('--topology', help='a topology file (YAML or JSON) instead of arguments')
    ap.add_argument('--no-moto', action='store_true', help='steps 1 and 2 only')
    ap.add_argument('--describe-out', help='after the moto apply, write describe-security-groups.json, '
                    'state.json and vpc-id into this directory (for topogen diff\'s tests)')
    argv = sys.argv[1:]
    for opt in ('--args', '--then-args'):   # values that start with "--"
        if opt in argv[:-1]:
            i = argv.index(opt)
            argv[i:i + 2] = [f'{opt}={argv[i + 1]}']
    o = ap.parse_args(argv)
    o.dir, o.aws_dir = os.path.abspath(o.dir), os.path.abspath(o.aws_dir)
    if o.then_dir and (o.no_moto or (o.then_args_file is None and o.then_args_string is None)):
        raise Usage('--then-dir needs --then-args-file (or --then-args) and the moto step')
    if o.then_dir:
        o.then_dir = os.path.abspath(o.then_dir)
        o.then_targs = read_targs(o.then_args_file, o.then_args_string)
    targs = ['--topology', o.topology] if o.topology else read_targs(o.args_file, o.args_string)
    a = ao.parse_topogen_args(targs)
    for d, files in ((o.dir, ('versions.tf', 'variables.tf', 'main.tf', 'outputs.tf')),
                     (o.aws_dir, ('security-groups.json', 'apply.sh')), (o.then_dir, ('main.tf',))):
        missing = [f for f in files if d and not os.path.isfile(os.path.join(d, f))]
        if missing:
            raise Usage(f'missing in {d}: {", ".join(missing)}')
    try:
        with open(os.path.join(o.aws_dir, 'security-groups.json')) as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        raise Usage(f'security-groups.json: {e}')
    if not isinstance(doc, dict) or not isinstance(doc.get('SecurityGroups'), list):
        raise Usage('security-groups.json: expected {"SecurityGroups": [...]}')
    expected = ao.expected_rules(a)
    out, info, timings, start = [], {}, {}, time.monotonic()
    print(f'terraform oracle: {o.dir} (args: {" ".join(targs) or "defaults"})')
    with tempfile.TemporaryDirectory(prefix='tf-oracle-') as tmp:
        tf = Terraform(tmp, timings)
        try:
            offline(a, o, doc, expected, tf, tmp, out, info)
            if not o.no_moto:
                moto(a, o, doc, expected, tf, tmp, out, info)
        except Stop:
            info['stopped'] = True
    print('  timings: ' + ', '.join(f'{k} {v:.1f} s' for k, v in timings.items()) +
          f'; total {time.monotonic() - start:.1f} s')
    if info.get('quirks'):
        print(f"  note: the re-plan showed {info['quirks']} description-only updates of rules to groups or prefix "
              "lists: moto's DescribeSecurityGroupRules (which the provider reads) drops those descriptions; "
              "moto's DescribeSecurityGroups holds them as planned, so they are not counted as drift")
    if 'then' in info:
        gone, ch = info['then']
        print(f'  then ({o.then_dir}): flows removed {", ".join(gone) or "none"}')
        print(''.join(f'    {act:6}  {x}\n' for act in sorted(ch) for x in ch[act]), end='')
    if out:
        print(f'terraform oracle: {len(out)} mismatches' + (' (later steps skipped)' if info.get('stopped') else ''))
        order = ['fmt', 'init', 'validate', 'plan', 'variables', 'outputs', 'document', *a.grouped, 'named', 'moto',
                 'then']
        for n, x in sorted(out, key=lambda m: (order.index(m[0]) if m[0] in order else len(order), m[0])):
            print(f'  MISMATCH  {a.name_prefix}-{n}: {x}' if n in a.grouped else f'  MISMATCH  {n}: {x}')
        return 1
    summary = f'fmt ok, validate ok, offline plan {info["rules"]} rules as expected and as security-groups.json'
    if not o.no_moto:
        summary += f', moto apply {timings["moto apply"]:.1f} s, no drift, equivalent to apply.sh'
        print(f'  the AWS and Terraform targets are equivalent for this example: moto holds the same groups, '
              f'rules, descriptions and tags after terraform apply and after apply.sh')
    else:
        summary += ', moto skipped (--no-moto)'
    if 'then' in info:
        gone, ch = info['then']
        label = ' '.join(t for t in targs if t.startswith('-') and t not in o.then_targs) or ', '.join(gone)
        summary += f', removing {label.lstrip("-") or "nothing"} changed only its {sum(map(len, ch.values()))} rules'
    print(f'terraform oracle: {summary}: all as expected')
    return 0


if __name__ == '__main__':
    try:
        sys.exit(main())
    except Usage as e:
        print(f'terraform oracle: error: {e}', file=sys.stderr)
        sys.exit(2)
    except Exception:   # an oracle that cannot judge must look neither like a finding (1) nor a pass (0)
        traceback.print_exc()
        print('terraform oracle: error: internal error (above)', file=sys.stderr)
        sys.exit(2)
