#!/usr/bin/env python3
"""Checks that every module a Swift file imports is declared on its target in Package.swift.

    scripts/check-imports.py        (from the repository root; exit status 1 when something is undeclared)
"""
import json
import pathlib
import re
import subprocess
import sys

SYSTEM = {"Foundation", "FoundationEssentials", "Glibc", "Darwin", "Dispatch", "Synchronization", "Testing", "XCTest", "os"}
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
for line in failures:
    print(line)
sys.exit(1 if failures else 0)
