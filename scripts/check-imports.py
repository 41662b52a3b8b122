#!/usr/bin/env python3
"""Checks the module layering of Package.swift:

- every module a Swift file imports is declared on its target;
- the SQL libraries are imported only by LatchkeyStorage (and tests that tamper with rows);
- the libraries below the web layer, and the Core and Storage tests, do not depend on Hummingbird, even indirectly.

    scripts/check-imports.py        (from the repository root; exit status 1 when a rule is broken)
"""
import json
import pathlib
import re
import subprocess
import sys

SYSTEM = {"Foundation", "FoundationEssentials", "FoundationNetworking", "Glibc", "Darwin", "Dispatch", "Synchronization", "Testing", "XCTest", "os"}
IMPORT = re.compile(r"^\s*(?:@testable\s+|public\s+|internal\s+|package\s+|private\s+|fileprivate\s+)?import\s+(?:struct\s+|class\s+|enum\s+|func\s+)?([A-Za-z_][A-Za-z0-9_]*)", re.M)

root = pathlib.Path(__file__).resolve().parent.parent
description = json.loads(subprocess.run(["swift", "package", "dump-package"], cwd=root, check=True, capture_output=True, text=True).stdout)
failures = []
for target in description["targets"]:
    name = target["name"]
    declared = {name}
    for dependency in target.get("dependencies", []):
        for kind in ("byName", "target", "product"):
            if kind in dependency:
                declared.add(dependency[kind][0])
    folder = root / (target.get("path") or ("Tests" if target["type"] == "test" else "Sources")) / ("" if target.get("path") else name)
    for file in sorted(folder.rglob("*.swift")):
        for module in IMPORT.findall(file.read_text()):
            if module not in SYSTEM and module not in declared:
                failures.append(f"{file.relative_to(root)}: imports {module}, which target {name} does not declare")
SQL = {"SQLKit", "SQLiteKit", "PostgresKit", "PostgresNIO"}
for target in description["targets"]:
    if target["type"] == "test" or target["name"] == "LatchkeyStorage":
        continue
    folder = root / "Sources" / target["name"]
    for file in sorted(folder.rglob("*.swift")):
        for module in set(IMPORT.findall(file.read_text())) & SQL:
            failures.append(f"{file.relative_to(root)}: imports {module}; SQL stays in LatchkeyStorage")

WITHOUT_WEB = ["LatchkeyCore", "LatchkeyStorage", "LatchkeyLifecycle", "LatchkeyConnect", "LatchkeyGateway", "LatchkeyBootstrap",
               "LatchkeyTesting", "LatchkeyCoreTests", "LatchkeyStorageTests"]
targets = {target["name"]: target for target in description["targets"]}


def reaches(name, seen):
    """The products and targets `name` depends on, directly or through other targets of this package."""
    for dependency in targets[name].get("dependencies", []):
        for kind in ("byName", "target", "product"):
            if kind in dependency:
                other = dependency[kind][0]
                if other not in seen:
                    seen.add(other)
                    if other in targets:
                        reaches(other, seen)
    return seen


for name in WITHOUT_WEB:
    web = {module for module in reaches(name, set()) if module.startswith("Hummingbird") or module == "LatchkeyHTTP"}
    if web:
        failures.append(f"{name} depends on {', '.join(sorted(web))}; it must build without the web layer")

for line in failures:
    print(line)
sys.exit(1 if failures else 0)
