#!/usr/bin/env python3
"""Independent oracle for topogen's YAML reader: what PyYAML reads in YAML files.

    .venv/bin/python3 Tests/Checkers/yaml_oracle.py FILE...

Prints one JSON object: each FILE's path mapped to its canonical text (below), or to
"error: ..." when PyYAML cannot read it. Exit 0 when every file was read, 1 when one was not,
2 on a usage error or when PyYAML is missing (a check that cannot run is a failure).

PyYAML's parser (libyaml's algorithm) reads the structure. Its scalars are resolved here with the
YAML 1.2 core schema, written independently of topogen from the YAML 1.2.2 specification
(10.3.2), instead of PyYAML's YAML 1.1 resolvers:
- null: ~, null, Null, NULL and the empty value;
- bool: true, True, TRUE, false, False, FALSE (yes, no, on, off, y, n are strings);
- int: [-+]?[0-9]+ (decimal, so 0777 is 777), 0o[0-7]+, 0x[0-9a-fA-F]+ (1_000 and 0b1 are strings);
- float: [-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?, [-+]?\\.(inf|Inf|INF), \\.(nan|NaN|NAN);
- everything else is a string: timestamps too (no 2001-12-14 dates), and << is no merge key.
Duplicate keys are an error here (PyYAML keeps the last one silently). Documents that hold
nothing (no node: only comments or blank lines) are skipped, as topogen skips them; an explicit
~ or null document is kept.

Canonical text, one line per node, two spaces of indentation per level:
    document                  each document, at level 0
    null | bool true | int 443 | float <IEEE 754 bits as an unsigned decimal, or nan>
    string "<JSON string, ASCII only>"
    sequence                  then each item one level deeper
    mapping                   then each entry one level deeper: key "<JSON string>", and its
                              value one more level deeper
A key that is not a string is written as its canonical text, as topogen documents: an int in
decimal, true/false, null, a float as Python's repr (.inf, -.inf, .nan for the others).
"""
import json
import math
import re
import struct
import sys

try:
    import yaml
    from yaml.nodes import ScalarNode
except ImportError as error:  # pragma: no cover - the failure is the report
    print(f"error: PyYAML is missing: {error}; run Scripts/bootstrap.sh", file=sys.stderr)
    sys.exit(2)

NULL = "tag:yaml.org,2002:null"
BOOL = "tag:yaml.org,2002:bool"
INT = "tag:yaml.org,2002:int"
FLOAT = "tag:yaml.org,2002:float"


class CoreLoader(yaml.SafeLoader):
    """SafeLoader with the YAML 1.2 core schema's resolvers and constructors."""


CoreLoader.yaml_implicit_resolvers = {}
CoreLoader.add_implicit_resolver(
    NULL, re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""])
CoreLoader.add_implicit_resolver(
    BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
CoreLoader.add_implicit_resolver(
    INT, re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"), list("-+0123456789"))
CoreLoader.add_implicit_resolver(
    FLOAT,
    re.compile(
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
    list("-+.0123456789"))


def construct_bool(loader, node):
    return loader.construct_scalar(node).lower() == "true"


def construct_int(loader, node):
    value = loader.construct_scalar(node)
    if value.startswith("0o"):
        return int(value[2:], 8)
    if value.startswith("0x"):
        return int(value[2:], 16)
    return int(value, 10)


def construct_float(loader, node):
    value = loader.construct_scalar(node)
    lowered = value.lower()
    if lowered in (".inf", "+.inf"):
        return math.inf
    if lowered == "-.inf":
        return -math.inf
    if lowered == ".nan":
        return math.nan
    return float(value)


def construct_mapping(loader, node, deep=False):
    loader.flatten_mapping(node)
    mapping = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if not isinstance(key, (str, int, float, bool, type(None))):
            raise yaml.constructor.ConstructorError(
                None, None, f"unsupported key {key!r}", key_node.start_mark)
        if key in mapping:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark)
        mapping[key] = loader.construct_object(value_node, deep=deep)
    return mapping


def construct_yaml_map(loader, node):
    data = {}
    yield data
    data.update(construct_mapping(loader, node))


CoreLoader.add_constructor(BOOL, construct_bool)
CoreLoader.add_constructor(INT, construct_int)
CoreLoader.add_constructor(FLOAT, construct_float)
CoreLoader.add_constructor("tag:yaml.org,2002:map", construct_yaml_map)


def is_empty(node):
    """A document without a node: PyYAML gives it an empty plain null scalar."""
    return (isinstance(node, ScalarNode) and node.tag == NULL and node.value == ""
            and node.style is None)


def load_all(text):
    loader = CoreLoader(text)
    try:
        documents = []
        while loader.check_node():
            node = loader.get_node()
            if not is_empty(node):
                documents.append(loader.construct_document(node))
        return documents
    finally:
        loader.dispose()


def key_text(key):
    if isinstance(key, str):
        return key
    if isinstance(key, bool):
        return "true" if key else "false"
    if key is None:
        return "null"
    if isinstance(key, int):
        return str(key)
    if isinstance(key, float):
        if math.isnan(key):
            return ".nan"
        if math.isinf(key):
            return ".inf" if key > 0 else "-.inf"
        return repr(key)
    raise ValueError(f"unexpected key {key!r}")


def canonical(value, level, lines):
    pad = "  " * level
    if value is None:
        lines.append(pad + "null")
    elif isinstance(value, bool):
        lines.append(pad + ("bool true" if value else "bool false"))
    elif isinstance(value, int):
        lines.append(f"{pad}int {value}")
    elif isinstance(value, float):
        bits = "nan" if math.isnan(value) else str(struct.unpack("<Q", struct.pack("<d", value))[0])
        lines.append(f"{pad}float {bits}")
    elif isinstance(value, str):
        lines.append(pad + "string " + json.dumps(value))
    elif isinstance(value, list):
        lines.append(pad + "sequence")
        for item in value:
            canonical(item, level + 1, lines)
    elif isinstance(value, dict):
        lines.append(pad + "mapping")
        for key, item in value.items():
            lines.append(pad + "  key " + json.dumps(key_text(key)))
            canonical(item, level + 2, lines)
    else:
        raise ValueError(f"unexpected value {value!r}")


def main(paths):
    if not paths:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    results = {}
    failed = False
    for path in paths:
        try:
            with open(path, encoding="utf-8") as file:
                documents = load_all(file.read())
            lines = []
            for document in documents:
                lines.append("document")
                canonical(document, 1, lines)
            results[path] = "\n".join(lines)
        except (OSError, UnicodeDecodeError, yaml.YAMLError, ValueError) as error:
            failed = True
            results[path] = "error: " + str(error).replace("\n", " ")
    print(json.dumps(results, indent=1))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
