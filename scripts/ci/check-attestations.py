#!/usr/bin/env python3
"""Checks the SBOM and provenance attestations of one image built like the pipeline's Push stage.

Input: what `docker buildx imagetools inspect IMAGE@DIGEST --format '{{json .SBOM}}'` and
`... '{{json .Provenance}}'` print, the Cargo.lock of the commit and the commit's hash.
- SBOM: the crates compiled into the binary are listed (cargo auditable embeds them; Syft reads
  them as pkg:cargo purls), each at the version Cargo.lock pins, the service's own crate among them.
- Provenance (SLSA, mode=max): names the commit (vcs revision and the REVISION build arg) and every
  base image with its digest, so a release can be traced to its source and its bases.
Prints one line of what it found; exits 1 with every problem otherwise.
"""

import argparse
import copy
import json
import re
import sys
from pathlib import Path

try:
    import tomllib
except ImportError:  # Python < 3.11: read Cargo.lock's name/version pairs directly
    tomllib = None

BASES = ("rust:1.95-slim-bookworm", "gcr.io/distroless/cc-debian12:nonroot")
CRATES = ("axum", "tonic", "tokio", "platform")


def spdx_documents(sbom: dict) -> list:
    """The SPDX documents of an inspected SBOM: the final image's, plus any scanned stage's."""
    if not sbom:
        return []
    if "SPDX" in sbom:  # one platform
        sbom = {"": sbom}
    docs = []
    for per_platform in sbom.values():
        docs.append(per_platform.get("SPDX") or {})
        docs.extend(per_platform.get("AdditionalSPDXs") or [])
    return docs


def cargo_packages(docs: list) -> dict:
    found = {}
    for doc in docs:
        for package in doc.get("packages", []):
            for ref in package.get("externalRefs", []):
                match = re.fullmatch(r"pkg:cargo/([^@]+)@([^?#]+)", ref.get("referenceLocator", ""))
                if match:
                    found.setdefault(match[1], set()).add(match[2])
    return found


def check_sbom(sbom: dict, lock: dict, service: str, problems: list) -> str:
    pinned = {}
    for package in lock:
        pinned.setdefault(package["name"], set()).add(package["version"])
    found = cargo_packages(spdx_documents(sbom))
    if not found:
        problems.append("the SBOM lists no Rust crate (is the binary built with cargo auditable?)")
        return ""
    for name, versions in sorted(found.items()):
        if not versions <= pinned.get(name, set()):
            problems.append(f"SBOM crate {name} {sorted(versions)} is not pinned so in Cargo.lock ({sorted(pinned.get(name, []))})")
    for name in (service,) + CRATES:
        if name not in found:
            problems.append(f"the SBOM misses the crate {name}")
    total = sum(len(v) for v in found.values())
    example = ", ".join(f"{n} {min(found[n])}" for n in ("axum", "tonic") if n in found)
    return f"SBOM: {total} crates, each at its Cargo.lock version ({example})"


def provenance_fields(slsa: dict) -> tuple:
    """(BuildKit metadata, build args, materials) of a SLSA v0.2 or v1 provenance predicate, as
    BuildKit writes them (moby/buildkit docs/attestations/slsa-definitions.md)."""
    if "buildDefinition" in slsa:  # v1
        definition = slsa["buildDefinition"]
        metadata = slsa.get("runDetails", {}).get("metadata", {}).get("buildkit_metadata", {})
        args = definition.get("externalParameters", {}).get("request", {}).get("args", {})
        return metadata, args, definition.get("resolvedDependencies", [])
    metadata = slsa.get("metadata", {}).get("https://mobyproject.org/buildkit@v1#metadata", {})
    return metadata, slsa.get("invocation", {}).get("parameters", {}).get("args", {}), slsa.get("materials", [])


def check_provenance(provenance: dict, revision: str, problems: list) -> str:
    if "SLSA" not in provenance:  # one entry per platform
        provenance = next(iter(provenance.values()), {}) if provenance else {}
    slsa = provenance.get("SLSA") or {}
    if not slsa:
        problems.append("no SLSA provenance")
        return ""
    metadata, args, materials = provenance_fields(slsa)
    vcs = metadata.get("vcs", {})
    if vcs.get("revision") != revision:
        problems.append(f"provenance vcs revision {vcs.get('revision')!r}, expected {revision}")
    if args.get("build-arg:REVISION") != revision:
        problems.append(f"provenance build-arg:REVISION {args.get('build-arg:REVISION')!r}, expected {revision}")
    for base in BASES:
        name, tag = base.rsplit(":", 1)
        uri = f"pkg:docker/{name}@{tag}"
        hit = [m for m in materials if m.get("uri", "").startswith(uri)]
        if not hit or not hit[0].get("digest", {}).get("sha256"):
            problems.append(f"provenance materials miss the base image {base} with its digest")
    if "layers" not in metadata:  # mode=min records no layers of the build steps
        problems.append("provenance is not mode=max (no layers of the build steps recorded)")
    return f"provenance: commit {revision[:12]}, base images by digest ({len(materials)} materials), build args, layers"


def read_lock(text: str) -> list:
    """The [[package]] entries (name, version) of a Cargo.lock."""
    if tomllib:
        return tomllib.loads(text)["package"]
    pairs = re.findall(r'^name = "([^"]+)"\nversion = "([^"]+)"', text, re.M)
    return [{"name": n, "version": v} for n, v in pairs]


def check(sbom: dict, provenance: dict, lock: list, revision: str, service: str) -> tuple:
    problems: list = []
    line = f"{check_sbom(sbom, lock, service, problems)}; {check_provenance(provenance, revision, problems)}"
    return line, problems


def self_test(directory: Path) -> int:
    """The real attestations of a cart image (tests/fixtures/attestations, trimmed) pass; each
    broken copy fails with the problem it was broken for."""
    sbom = json.loads((directory / "sbom.json").read_text())
    provenance = json.loads((directory / "provenance.json").read_text())
    lock = read_lock((directory / "Cargo.lock").read_text())
    revision = (directory / "revision").read_text().strip()
    _, problems = check(sbom, provenance, lock, revision, "cart")
    failures = [f"the real attestations fail: {problems}"] if problems else []

    def package(doc: dict, name: str) -> dict:
        return next(p for p in doc["SPDX"]["packages"] if p["name"] == name)

    def crate_version(doc: dict) -> None:
        for ref in package(doc, "axum")["externalRefs"]:
            ref["referenceLocator"] = ref["referenceLocator"].replace("pkg:cargo/axum@", "pkg:cargo/axum@0.0.")

    def no_crates(doc: dict) -> None:
        doc["SPDX"]["packages"] = [p for p in doc["SPDX"]["packages"]
                                   if not any("pkg:cargo/" in r["referenceLocator"] for r in p.get("externalRefs", []))]

    def no_base(doc: dict) -> None:
        doc["SLSA"]["materials"] = [m for m in doc["SLSA"]["materials"] if "distroless" not in m["uri"]]

    def other_revision(doc: dict) -> None:
        doc["SLSA"]["metadata"]["https://mobyproject.org/buildkit@v1#metadata"]["vcs"]["revision"] = "0" * 40

    def mode_min(doc: dict) -> None:
        del doc["SLSA"]["metadata"]["https://mobyproject.org/buildkit@v1#metadata"]["layers"]

    broken = [("sbom", crate_version, "SBOM crate axum"), ("sbom", no_crates, "lists no Rust crate"),
              ("provenance", no_base, "cc-debian12:nonroot"), ("provenance", other_revision, "vcs revision"),
              ("provenance", mode_min, "not mode=max")]
    for which, breaks, expected in broken:
        s, p = copy.deepcopy(sbom), copy.deepcopy(provenance)
        breaks(s if which == "sbom" else p)
        _, problems = check(s, p, lock, revision, "cart")
        if not any(expected in problem for problem in problems):
            failures.append(f"{breaks.__name__}: expected a problem with {expected!r}, got {problems}")
    for failure in failures:
        print(f"error: self-test: {failure}", file=sys.stderr)
    if not failures:
        print(f"check-attestations self-test: the real attestations pass, {len(broken)} broken copies fail")
    return 1 if failures else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--self-test", metavar="DIR", type=Path, help="run against the fixtures in DIR")
    parser.add_argument("--sbom")
    parser.add_argument("--provenance")
    parser.add_argument("--lock")
    parser.add_argument("--revision")
    parser.add_argument("--service", default="cart")
    args = parser.parse_args()
    if args.self_test:
        return self_test(args.self_test)
    if not (args.sbom and args.provenance and args.lock and args.revision):
        parser.error("--sbom, --provenance, --lock and --revision are required (or --self-test DIR)")
    lock = read_lock(Path(args.lock).read_text())
    with open(args.sbom) as f, open(args.provenance) as g:
        line, problems = check(json.load(f) or {}, json.load(g) or {}, lock, args.revision, args.service)
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    if problems:
        return 1
    print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
