#!/usr/bin/env python3
"""Checks the topology file's JSON Schema with an independent validator (python-jsonschema).

    .venv/bin/python3 Tests/Checkers/schema_check.py SCHEMA [--valid FILE...] [--invalid FILE...]

1. SCHEMA is itself a valid draft 2020-12 schema (Draft202012Validator.check_schema), and every
   property it declares has a description, so that editors show one.
2. Every --valid FILE validates against it.
3. Every --invalid FILE is rejected by it, and for the reason its first line names: the line is
   `# error: PATH`, the path of the bad field as topogen names it (`workerPools[0].name`), and
   one of the schema's errors must lie at PATH, at a field that holds it (an unknown field is
   reported at the mapping that holds it), or inside it (topogen reports a missing 'from' at
   the entry, the schema at the empty list).

Files ending in .json are read as JSON; the others as YAML with the YAML 1.2 core schema, the
resolvers of Tests/Checkers/yaml_oracle.py (as topogen reads YAML: `yes` is a string). An empty
YAML file is null.

Prints one JSON object: {"schema": [problems], "files": {FILE: {"expected": "valid" or
"invalid", "errors": ["PATH: message", ...], "ok": true or false, "problem": "..."}}}. Exit 0
when everything is as expected, 1 when not, 2 on a usage error or when jsonschema or PyYAML is
missing (a check that cannot run is a failure).
"""
import json
import os
import sys

try:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError
except ImportError as error:  # pragma: no cover - the failure is the report
    print(f"error: jsonschema is missing: {error}; run Scripts/bootstrap.sh", file=sys.stderr)
    sys.exit(2)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import yaml_oracle  # noqa: E402  (exits 2 itself when PyYAML is missing)


def path_text(path):
    """A jsonschema path as topogen writes one: workerPools[0].cidrs[1], nodes.object-storage."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + str(part)
    return text


def holds(outer, inner):
    """Whether the field at path `outer` is `inner` or holds it."""
    return (outer == "" or inner == outer or inner.startswith(outer + ".")
            or inner.startswith(outer + "["))


def related(found, wanted):
    """Whether an error at path `found` is about the field at path `wanted`."""
    return holds(found, wanted) or holds(wanted, found)


def undescribed(schema, where="#"):
    """Every property of the schema without a description, as JSON pointers."""
    missing = []
    if isinstance(schema, dict):
        for name, sub in (schema.get("properties") or {}).items():
            if not isinstance(sub, dict) or "description" not in sub:
                missing.append(f"{where}/properties/{name}")
        for key, value in schema.items():
            missing += undescribed(value, f"{where}/{key}")
    elif isinstance(schema, list):
        for index, item in enumerate(schema):
            missing += undescribed(item, f"{where}/{index}")
    return missing


def load(path):
    with open(path, encoding="utf-8") as file:
        text = file.read()
    if path.endswith(".json"):
        return json.loads(text), text
    documents = yaml_oracle.load_all(text)
    if len(documents) > 1:
        raise ValueError("a topology file holds one document")
    return (documents[0] if documents else None), text


def expected_path(text):
    first = text.splitlines()[0] if text else ""
    prefix = "# error: "
    return first[len(prefix):].strip() if first.startswith(prefix) else None


def main(arguments):
    if not arguments or arguments[0].startswith("--"):
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    schema_path, mode = arguments[0], None
    files = []
    for argument in arguments[1:]:
        if argument in ("--valid", "--invalid"):
            mode = argument[2:]
        elif mode is None:
            print("error: a FILE before --valid or --invalid", file=sys.stderr)
            return 2
        else:
            files.append((argument, mode))
    with open(schema_path, encoding="utf-8") as file:
        schema = json.load(file)
    report = {"schema": [], "files": {}}
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as error:
        report["schema"].append(f"not a valid draft 2020-12 schema: {error.message}")
    if schema.get("$schema") != "https://json-schema.org/draft/2020-12/schema":
        report["schema"].append("$schema is not draft 2020-12")
    for pointer in undescribed(schema):
        report["schema"].append(f"no description: {pointer}")
    validator = Draft202012Validator(schema)
    failed = bool(report["schema"])
    for path, expected in files:
        result = {"expected": expected, "errors": [], "ok": False}
        try:
            document, text = load(path)
        except (OSError, UnicodeDecodeError, ValueError, yaml_oracle.yaml.YAMLError) as error:
            result["problem"] = f"cannot read: {error}"
            report["files"][path] = result
            failed = True
            continue
        errors = sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.path)))
        result["errors"] = [f"{path_text(e.absolute_path)}: {e.message}" for e in errors]
        if expected == "valid":
            result["ok"] = not errors
        else:
            want = expected_path(text)
            if want is None:
                result["problem"] = "no '# error: PATH' first line"
            elif not errors:
                result["problem"] = "the schema accepts it"
            elif not any(related(path_text(e.absolute_path), want) for e in errors):
                result["problem"] = f"no error at '{want}', a field holding it or inside it"
            else:
                result["ok"] = True
        failed = failed or not result["ok"]
        report["files"][path] = result
    print(json.dumps(report, indent=2, sort_keys=True))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
