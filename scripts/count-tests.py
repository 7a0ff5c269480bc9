#!/usr/bin/python3
"""Prints "PASSED FAILED SKIPPED" for one meson test run, counting individual test cases.

Reads meson's testlog.json. A test binary that prints its own summary ("N passed, N failed"
from tests/unit/tests.h, or pytest's "N passed, M failed, K skipped") counts as those N/M/K;
any other test counts as one case by its meson result. A binary that failed without printing
a failure count (a crash, a sanitizer abort) still counts one failure.
"""
import json
import re
import sys

SUMMARY = re.compile(r"(\d+) (passed|failed|skipped|error|errors)\b")


def counts(stdout):
    found = {}
    for line in reversed(stdout.splitlines()):
        hits = SUMMARY.findall(line)
        if hits and ("passed" in line or "failed" in line):
            for n, word in hits:
                found[word.rstrip("s") if word.startswith("error") else word] = int(n)
            return found
    return None


def main(path):
    passed = failed = skipped = 0
    with open(path) as f:
        for line in f:
            t = json.loads(line)
            result = t.get("result", "")
            c = counts(t.get("stdout", "") or "")
            if c is None:
                if result == "OK":
                    passed += 1
                elif result == "SKIP":
                    skipped += 1
                else:
                    failed += 1
                continue
            p, fl = c.get("passed", 0), c.get("failed", 0) + c.get("error", 0)
            if result not in ("OK", "SKIP") and fl == 0:
                fl = 1  # crashed or aborted after printing a clean count
            passed, failed, skipped = passed + p, failed + fl, skipped + c.get("skipped", 0)
    print(passed, failed, skipped)


if __name__ == "__main__":
    main(sys.argv[1])
