#!/usr/bin/env python3
"""Runs an elfcheck binary on every case of cases.json and says which cases it gets right.

    python3 tests/realworld/evaluate.py ELFCHECK OUTDIR [CASE-ID...]

OUTDIR is what build.sh wrote. Applies the rules of cases.json's `how_to_read` to the JSON
report of `elfcheck check --format json --no-config --no-template --runtime R --arch A ARTIFACT`
(exit code, must, must_not, may). Prints one line per case (OK or DIFF with the reasons) and
exits 1 if any case differs. A reference for the Rust acceptance test, not a replacement.
"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
RANK = {"info": 0, "warning": 1, "error": 2}


def path_matches(pattern, path):
    return pattern is None or path == pattern or (pattern.endswith("*") and path.startswith(pattern[:-1]))


def matches(entry, f):
    codes = [entry["code"]] + entry.get("also_acceptable", [])
    paths = ([entry["path"]] if "path" in entry else [None]) + entry.get("also_acceptable_paths", [])
    return (f["code"] in codes and any(path_matches(p, f["path"]) for p in paths)
            and entry.get("message_contains", "") in f.get("message", ""))


def evaluate(case, report, exit_code):
    findings = report["findings"]
    loud = [f for f in findings if RANK[f["severity"]] >= RANK["warning"]]
    errors = [f for f in findings if f["severity"] == "error"]
    problems = []
    want = 0 if case["verdict"] == "pass" else 1
    if exit_code != want:
        problems.append("exit %d, want %d" % (exit_code, want))
    for m in case["must"]:
        if not any(matches(m, f) for f in errors):
            problems.append("no error matching %s" % json.dumps(m))
    for m in case["must_not"]:
        hits = [(f["code"], f["path"], f["severity"]) for f in loud if matches(m, f)]
        if hits:
            problems.append("must_not %s reported: %s" % (json.dumps(m), hits[:3]))

    def allowed(f):
        return any(matches(m, f) and RANK[f["severity"]] <= RANK[m.get("severity", "error")] for m in case["may"])

    extra = [f for f in loud if not allowed(f) and not any(matches(m, f) for m in case["must"])]
    if extra:
        problems.append("unexpected: %s" % [(f["code"], f["path"], f["severity"]) for f in extra][:5])
    return problems


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    binary, out, wanted = sys.argv[1], sys.argv[2], set(sys.argv[3:])
    with open(os.path.join(HERE, "cases.json"), encoding="utf-8") as f:
        cases = json.load(f)["cases"]
    ok = total = 0
    for case in cases:
        if wanted and case["id"] not in wanted:
            continue
        total += 1
        t = case["target"]
        r = subprocess.run([binary, "check", "--format", "json", "--no-config", "--no-template", "--runtime", t["runtime"],
                            "--arch", t["arch"], os.path.join(out, case["artifact"])], capture_output=True, text=True)
        try:
            report = json.loads(r.stdout)
        except ValueError:
            print("DIFF %s: no JSON report (exit %d): %s" % (case["id"], r.returncode, r.stderr.strip()[:300]))
            continue
        problems = evaluate(case, report, r.returncode)
        print(("OK   %s" % case["id"]) if not problems else ("DIFF %s: %s" % (case["id"], "; ".join(problems))))
        ok += not problems
    print("%d of %d cases match" % (ok, total))
    sys.exit(0 if ok == total else 1)


if __name__ == "__main__":
    main()
