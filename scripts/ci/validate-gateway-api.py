#!/usr/bin/env python3
"""Validates Gateway API objects against the schemas of their CRDs, which kubernetes-validate lacks.

usage: validate-gateway-api.py FILE...

Reads each FILE as multi-document YAML and checks every document whose apiVersion is in the group
gateway.networking.k8s.io against the openAPIV3Schema of the v1 CRD version, extracted from the
pinned Gateway API release into scripts/ci/schemas/gateway-api/ (see its README.md). Documents of
other groups are skipped. Like the API server, it applies the schema's defaults before validating;
like `kubernetes-validate --strict`, it rejects fields the schema does not know (every object schema
with `properties` gets `additionalProperties: false`, except `metadata`, which CRDs leave untyped).
The CRDs' CEL rules (x-kubernetes-validations) and list-type uniqueness are not checked.

Prints `OK Kind/name (file)` for each valid object and `FAIL Kind/name (file, document N): $.path:
message` for each error. Exit status: 0 all valid, 1 any error, 2 usage error. Needs PyYAML and
jsonschema (pip install jsonschema).
"""

import copy
import json
import sys
from pathlib import Path

import jsonschema
import yaml

GROUP = "gateway.networking.k8s.io"
VERSION = "v1"
SCHEMA_DIR = Path(__file__).resolve().parent / "schemas" / "gateway-api"
MAX_MESSAGE = 300


class Loader(yaml.SafeLoader):
    """SafeLoader that keeps unquoted timestamps as strings, as Kubernetes does."""


Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def children(schema):
    """The sub-schemas that describe the structure of an object (not value validations)."""
    for sub in (schema.get("properties") or {}).values():
        yield sub
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            yield schema[key]


def make_strict(schema, is_root=True):
    """Rejects unknown fields: additionalProperties: false on every object schema with properties."""
    if (
        "properties" in schema
        and "additionalProperties" not in schema
        and not schema.get("x-kubernetes-preserve-unknown-fields")
    ):
        schema["additionalProperties"] = False
    for name, sub in (schema.get("properties") or {}).items():
        if not (is_root and name == "metadata"):
            make_strict(sub, is_root=False)
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            make_strict(schema[key], is_root=False)


def apply_defaults(value, schema):
    """Sets missing fields that have a schema default, recursively (the API server does this first)."""
    if isinstance(value, dict):
        for name, sub in (schema.get("properties") or {}).items():
            if name not in value and "default" in sub:
                value[name] = copy.deepcopy(sub["default"])
            if name in value:
                apply_defaults(value[name], sub)
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            for name, item in value.items():
                if name not in (schema.get("properties") or {}):
                    apply_defaults(item, extra)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for item in value:
            apply_defaults(item, schema["items"])


def load_validators():
    validators = {}
    for path in sorted(SCHEMA_DIR.glob("*.json")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        make_strict(schema)
        jsonschema.Draft7Validator.check_schema(schema)
        validators[path.stem] = (
            schema,
            jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER),
        )
    if not validators:
        raise SystemExit(f"error: no schemas in {SCHEMA_DIR}")
    return validators


def json_path(parts):
    path = "$"
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def shorten(text):
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 3] + "..."


def messages(error):
    """(JSON path, message) pairs for one jsonschema error."""
    path = list(error.absolute_path)
    if error.validator == "additionalProperties" and error.validator_value is False:
        known = error.schema.get("properties") or {}
        return [(json_path(path + [name]), f'unknown field "{name}"')
                for name in error.instance if name not in known]
    message = error.message
    if error.context:
        best = jsonschema.exceptions.best_match(error.context)
        message += f" (e.g. {json_path(path + list(best.relative_path))}: {best.message})"
    return [(json_path(path), shorten(message))]


def check_file(filename, validators):
    """Validates the Gateway API documents of one file; returns the number of failed objects."""
    failed = 0
    try:
        with open(filename, encoding="utf-8") as f:
            documents = list(yaml.load_all(f, Loader=Loader))
    except (OSError, yaml.YAMLError) as e:
        print(f"FAIL {filename}: {e}")
        return 1
    for number, doc in enumerate(documents, start=1):
        if doc is None:
            continue
        where = f"{filename}, document {number}"
        if not isinstance(doc, dict):
            print(f"FAIL ({where}): not a mapping")
            failed += 1
            continue
        api_version = doc.get("apiVersion")
        if not isinstance(api_version, str) or api_version.split("/")[0] != GROUP:
            continue
        kind = doc.get("kind")
        metadata = doc.get("metadata")
        name = metadata.get("name") if isinstance(metadata, dict) else None
        label = f"{kind}/{name}"
        if api_version != f"{GROUP}/{VERSION}" or not isinstance(kind, str) \
                or kind.lower() not in validators:
            print(f"FAIL {label} ({where}): no schema for {api_version} {kind} "
                  f"(schemas: {GROUP}/{VERSION} {', '.join(sorted(validators))})")
            failed += 1
            continue
        schema, validator = validators[kind.lower()]
        obj = copy.deepcopy(doc)
        apply_defaults(obj, schema)
        errors = sorted(validator.iter_errors(obj), key=lambda e: [str(p) for p in e.absolute_path])
        if not errors:
            print(f"OK {label} ({filename})")
            continue
        failed += 1
        for error in errors:
            for path, message in messages(error):
                print(f"FAIL {label} ({where}): {path}: {message}")
    return failed


def main(argv):
    usage = __doc__.strip().splitlines()[2]
    if argv in (["-h"], ["--help"]):
        print(usage)
        return 0
    if not argv or any(arg.startswith("-") for arg in argv):
        print(usage, file=sys.stderr)
        return 2
    validators = load_validators()
    failed = sum(check_file(filename, validators) for filename in argv)
    if failed:
        print(f"{failed} Gateway API object(s) failed validation", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
