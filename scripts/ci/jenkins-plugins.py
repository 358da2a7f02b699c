#!/usr/bin/env python3
"""Offline check of the Jenkins controller's plugin list (no network, Python stdlib only).

jenkins/plugins.in.txt   the top-level plugins, pinned (what a human edits)
jenkins/plugins.txt      every plugin, transitive dependencies included (scripts/jenkins-plugins-lock.sh)
jenkins/plugins.deps     per plugin: Jenkins-Version and Plugin-Dependencies of its MANIFEST.MF

Checks that:
  1. plugins.txt and plugins.deps name the same plugins at the same versions, once each;
  2. the list is closed: every required dependency of every listed plugin is listed, at a version
     >= the one it requires; an optional dependency that is listed is new enough too (Jenkins
     refuses to load a plugin whose optional dependency is installed but older);
  3. every pin of plugins.in.txt is in plugins.txt at exactly that version;
  4. the core of jenkins/Dockerfile's FROM tag is >= every plugin's Jenkins-Version;
  5. the plugins that the Job DSL of jenkins/casc.yaml needs are listed (NEEDED below).

Versions compare by their leading numbers: the version is split at "." and "-" and the parts are
taken up to the first one that is not all digits, then compared as lists of integers.
  4423.vb_59f230b_ce53 -> [4423]       1396.v095840ed8491 -> [1396]       1.30 -> [1, 30]
  2.17.0-1 -> [2, 17, 0, 1]            2.20.1-423.v13951f6b_6532 -> [2, 20, 1, 423]
That is how these versions are ordered in practice (the "v<commit>" tail of an automated release
carries no order). Versions with equal leading numbers count as equal.

Usage: scripts/ci/jenkins-plugins.py [--self-test]
  --self-test   also check broken copies (a dependency missing, a version too low, ...) and fail
                unless the check rejects each of them
"""
from __future__ import annotations

import re
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FILES = ("plugins.in.txt", "plugins.txt", "plugins.deps", "Dockerfile")

# What the jobs of casc.yaml (Job DSL) need installed, and why. Job DSL refuses to generate a job
# type or a (dynamic DSL) SCM whose plugin is missing.
NEEDED = {
    "configuration-as-code": "casc.yaml itself",
    "job-dsl": "the jobs: entries of casc.yaml",
    "workflow-job": "pipelineJob / multibranchPipelineJob run Pipeline jobs",
    "workflow-cps": "definition { cpsScm { ... } } and Jenkinsfile-defined branches",
    "workflow-multibranch": "multibranchPipelineJob and its workflowBranchProjectFactory",
    "branch-api": "branchSources { branchSource { ... } } of multibranchPipelineJob",
    "scm-api": "the SCM sources of multibranch jobs",
    "git": "the git branch source, source { git { ... } } with gitBranchDiscovery(), and /git/notifyCommit",
    "cloudbees-folder": "multibranch jobs are folders (periodicFolderTrigger, discardOldItems)",
}


def vkey(version: str) -> list[int]:
    """The leading numbers of a version: see the module docstring."""
    key = []
    for part in re.split(r"[.-]", version):
        if not part.isdigit():
            break
        key.append(int(part))
    return key


def at_least(have: str, need: str) -> bool:
    return vkey(have) >= vkey(need)


def entries(path: Path) -> list[tuple[int, str]]:
    """(line number, text) of the lines that are not blank or comments."""
    out = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if line and not line.startswith("#"):
            out.append((number, line))
    return out


def pins(path: Path, errors: list[str]) -> dict[str, str]:
    """name -> version of a plugins.txt-style file."""
    found: dict[str, str] = {}
    for number, line in entries(path):
        name, sep, version = line.partition(":")
        where = f"{path.name}:{number}"
        if not sep or not name or version in ("latest", "experimental") or not re.fullmatch(r"[0-9][A-Za-z0-9._-]*", version):
            errors.append(f"{where}: '{line}' is not name:version (a pinned version, not latest/experimental/a URL)")
            continue
        if name in found:
            errors.append(f"{where}: {name} is listed twice")
        found[name] = version
    return found


def parse_deps(path: Path, errors: list[str]) -> dict[str, tuple[str, str, list[tuple[str, str, bool]]]]:
    """name -> (version, Jenkins-Version or '?', [(dependency, minimum version, optional)])."""
    found: dict[str, tuple[str, str, list[tuple[str, str, bool]]]] = {}
    for number, line in entries(path):
        where = f"{path.name}:{number}"
        fields = line.split()
        if len(fields) != 3 or ":" not in fields[0]:
            errors.append(f"{where}: expected 'name:version Jenkins-Version dependencies', got '{line}'")
            continue
        name, _, version = fields[0].partition(":")
        deps = []
        if fields[2] != "-":
            for item in fields[2].split(","):
                spec, _, attrs = item.partition(";")
                dep, sep, minimum = spec.partition(":")
                if not sep or not dep or not minimum:
                    errors.append(f"{where}: dependency '{item}' of {name} is not name:version[;resolution:=optional]")
                    continue
                deps.append((dep, minimum, "resolution:=optional" in attrs))
        if name in found:
            errors.append(f"{where}: {name} is listed twice")
        found[name] = (version, fields[1], deps)
    return found


def core_of(dockerfile: Path, errors: list[str]) -> str | None:
    for line in dockerfile.read_text(encoding="utf-8").splitlines():
        match = re.match(r"FROM\s+jenkins/jenkins:(\d+(?:\.\d+)+)-", line)
        if match:
            return match.group(1)
    errors.append(f"{dockerfile.name}: no 'FROM jenkins/jenkins:<version>-...' line (a pinned core)")
    return None


def check(directory: Path) -> list[str]:
    """Every problem of the plugin files in directory (jenkins/ or a copy of it)."""
    errors: list[str] = []
    top = pins(directory / "plugins.in.txt", errors)
    listed = pins(directory / "plugins.txt", errors)
    deps = parse_deps(directory / "plugins.deps", errors)
    core = core_of(directory / "Dockerfile", errors)

    for name in sorted(set(listed) | set(deps)):
        if name not in deps:
            errors.append(f"plugins.deps lacks {name}:{listed[name]} of plugins.txt (rerun scripts/jenkins-plugins-lock.sh)")
        elif name not in listed:
            errors.append(f"plugins.deps has {name}:{deps[name][0]}, which plugins.txt does not list")
        elif listed[name] != deps[name][0]:
            errors.append(f"{name}: plugins.txt has {listed[name]}, plugins.deps {deps[name][0]}")

    for name, (version, jenkins, needs) in sorted(deps.items()):
        for dep, minimum, optional in needs:
            have = listed.get(dep)
            if have is None:
                if not optional:
                    errors.append(f"not closed: {name}:{version} requires {dep}:{minimum}, which plugins.txt does not list")
            elif not at_least(have, minimum):
                kind = "optionally requires" if optional else "requires"
                errors.append(f"{name}:{version} {kind} {dep}:{minimum}, but plugins.txt has {dep}:{have}")
        if core and jenkins != "?" and not at_least(core, jenkins):
            errors.append(f"{name}:{version} needs Jenkins {jenkins}, but jenkins/Dockerfile has {core}")

    for name, version in sorted(top.items()):
        if name not in listed:
            errors.append(f"plugins.in.txt pins {name}:{version}, which plugins.txt does not list (rerun scripts/jenkins-plugins-lock.sh)")
        elif listed[name] != version:
            errors.append(f"plugins.in.txt pins {name}:{version}, but plugins.txt has {name}:{listed[name]} (rerun scripts/jenkins-plugins-lock.sh)")

    for name, why in NEEDED.items():
        if name not in listed:
            errors.append(f"plugins.txt lacks {name}, needed for {why}")
    return errors


def report(directory: Path) -> int:
    errors = check(directory)
    for error in errors:
        print(f"error: {error}", file=sys.stderr)
    if errors:
        return 1
    listed = pins(directory / "plugins.txt", [])
    unknown = [line for _, line in entries(directory / "plugins.deps") if line.split()[1:2] == ["?"]]
    print(f"jenkins plugins: {len(listed)} pinned, closed, on Jenkins {core_of(directory / 'Dockerfile', [])}"
          + (f" ({len(unknown)} without a recorded Jenkins-Version)" if unknown else ""))
    return 0


def edit(directory: Path, name: str, old: str, new: str) -> None:
    path = directory / name
    text = path.read_text(encoding="utf-8")
    if not re.search(old, text, flags=re.M):
        raise SystemExit(f"self-test: '{old}' not found in {name}")
    path.write_text(re.sub(old, new, text, count=1, flags=re.M), encoding="utf-8")


def self_test(source: Path) -> int:
    """Break copies of the files one way each; the check must reject every one."""
    listed = pins(source / "plugins.txt", [])
    deps = parse_deps(source / "plugins.deps", [])
    top = pins(source / "plugins.in.txt", [])
    # a plugin some other plugin requires, and the requirement
    dep, need, user = next((d, m, n) for n, (_, _, ds) in sorted(deps.items()) for d, m, o in ds if not o and d in listed)
    pinned = sorted(top)[0]
    lowest = next(n for n, (_, j, _) in sorted(deps.items()) if j != "?")
    cases = {
        "a required dependency is missing": [
            ("plugins.txt", rf"^{re.escape(dep)}:.*\n", ""),
            ("plugins.deps", rf"^{re.escape(dep)}:.*\n", ""),
        ],
        "a dependency is below the required version": [
            ("plugins.txt", rf"^{re.escape(dep)}:.*$", f"{dep}:0.1"),
            ("plugins.deps", rf"^{re.escape(dep)}:\S+", f"{dep}:0.1"),
        ],
        "plugins.txt and plugins.deps disagree": [("plugins.deps", rf"^{re.escape(dep)}:\S+", f"{dep}:{need}-other")],
        "a plugin of plugins.txt has no dependency data": [("plugins.deps", rf"^{re.escape(dep)}:.*\n", "")],
        "a pin of plugins.in.txt is not what plugins.txt has": [("plugins.in.txt", rf"^{re.escape(pinned)}:.*$", f"{pinned}:1.0")],
        "the core is older than a plugin needs": [("Dockerfile", r"^FROM jenkins/jenkins:[0-9.]+-", "FROM jenkins/jenkins:2.1-")],
        "a plugin is not pinned": [("plugins.txt", rf"^{re.escape(pinned)}:.*$", f"{pinned}:latest")],
        # job-dsl: no other plugin depends on it, so only the NEEDED check can notice
        "a plugin the Job DSL needs is missing": [
            ("plugins.txt", r"^job-dsl:.*\n", ""),
            ("plugins.deps", r"^job-dsl:.*\n", ""),
            ("plugins.in.txt", r"^job-dsl:.*\n", ""),
        ],
    }
    print(f"self-test (broken copies of jenkins/; e.g. {user} requires {dep}:{need}, {lowest} has a Jenkins-Version)")
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for number, (case, edits) in enumerate({"the files as they are": [], **cases}.items()):
            copy = Path(tmp) / f"case{number}"
            copy.mkdir()
            for name in FILES:
                shutil.copy(source / name, copy / name)
            for name, old, new in edits:
                edit(copy, name, old, new)
            errors = check(copy)
            expected = bool(edits)
            ok = bool(errors) == expected
            failed += not ok
            verdict = ("rejected" if errors else "accepted") + ("" if ok else "  <-- WRONG")
            print(f"  {case}: {verdict}")
            for error in errors[:2]:
                print(f"      {error}")
    print("self-test " + ("OK" if not failed else f"FAILED ({failed} case(s))"))
    return 1 if failed else 0


def main(argv: list[str]) -> int:
    if argv and argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    if argv not in ([], ["--self-test"]):
        print("usage: scripts/ci/jenkins-plugins.py [--self-test]", file=sys.stderr)
        return 2
    directory = ROOT / "jenkins"
    status = report(directory)
    if argv == ["--self-test"]:
        status |= self_test(directory)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
