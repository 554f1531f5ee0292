#!/usr/bin/env python3
"""Runs a composite GitHub Action (action.yml) on this machine, the way the runner would.

Only what elfcheck's action.yml uses is supported: `run` steps with `shell: bash`, `env`, `id`,
`if` (`A == 'x'`, `A != 'x'`, or a bare context value), the expressions `${{ inputs.X }}`,
`${{ github.X }}`, `${{ runner.X }}` and `${{ steps.ID.outputs.X }}`, and
`actions/cache/restore` (a hit when its path already exists and is not empty, as a restored
cache would be) with `actions/cache/save` (the path stays for the next run, as if saved). Each step gets its own GITHUB_OUTPUT file;
GITHUB_STEP_SUMMARY and the other runner variables come from the environment.

usage: run-action.py ACTION_DIR [--input NAME=VALUE]... [--github NAME=VALUE]... --outputs FILE
Prints the steps' output; writes the action's outputs to FILE as JSON; exits with the first
failing step's exit code (0 when all passed).
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

import yaml

EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("action_dir")
    ap.add_argument("--input", action="append", default=[])
    ap.add_argument("--github", action="append", default=[])
    ap.add_argument("--outputs", required=True)
    a = ap.parse_args()

    action = yaml.safe_load(open(os.path.join(a.action_dir, "action.yml")))
    assert action["runs"]["using"] == "composite", "only composite actions"

    inputs = {k: str(v.get("default", "")) for k, v in action.get("inputs", {}).items()}
    for item in a.input:
        name, _, value = item.partition("=")
        if name not in inputs:
            sys.exit(f"run-action: the action has no input {name!r}")
        inputs[name] = value
    for name, spec in action.get("inputs", {}).items():
        if spec.get("required") and not inputs[name]:
            sys.exit(f"run-action: input {name!r} is required")

    github = {"action_path": os.path.abspath(a.action_dir), "action_ref": "", "action_repository": "",
              "repository": "example/elfcheck", "workspace": os.getcwd()}
    for item in a.github:
        name, _, value = item.partition("=")
        github[name] = value
    runner = {"os": os.environ["RUNNER_OS"], "arch": os.environ["RUNNER_ARCH"],
              "temp": os.environ["RUNNER_TEMP"], "tool_cache": os.environ.get("RUNNER_TOOL_CACHE", "")}
    steps = {}

    def lookup(expr):
        parts = expr.split(".")
        if parts[0] == "inputs":
            return inputs[parts[1]]
        if parts[0] == "github":
            return github.get(parts[1], "")
        if parts[0] == "runner":
            return runner[parts[1]]
        if parts[0] == "steps" and parts[2] == "outputs":
            return steps.get(parts[1], {}).get(parts[3], "")
        raise SystemExit(f"run-action: unsupported expression {expr!r}")

    def render(value):
        return EXPR.sub(lambda m: lookup(m.group(1)), str(value))

    def condition(expr):
        expr = EXPR.sub(lambda m: m.group(1), expr).strip()
        m = re.fullmatch(r"(\S+)\s*(==|!=)\s*'([^']*)'", expr)
        if m:
            equal = lookup(m.group(1)) == m.group(3)
            return equal if m.group(2) == "==" else not equal
        return bool(lookup(expr))

    failed = 0
    for number, step in enumerate(action["runs"]["steps"], 1):
        name = step.get("name", step.get("id", f"step {number}"))
        if failed:
            print(f"--- skipped (an earlier step failed): {name}", flush=True)
            continue
        if "if" in step and not condition(str(step["if"])):
            print(f"--- skipped (if: {step['if']}): {name}", flush=True)
            continue
        print(f"--- {name}", flush=True)
        outputs = {}
        if "uses" in step:
            uses = step["uses"].split("@")[0]
            path = render(step["with"]["path"])
            key = render(step["with"]["key"])
            if uses == "actions/cache/restore":
                hit = os.path.isdir(path) and bool(os.listdir(path))
                print(f"cache key {key}: {'hit' if hit else 'miss'} ({path})", flush=True)
                outputs["cache-hit"] = "true" if hit else "false"
            elif uses == "actions/cache/save":
                if not (os.path.isdir(path) and os.listdir(path)):
                    print(f"cache save {key}: {path} is empty", flush=True)
                    failed = 1
                print(f"cache saved {key} ({path})", flush=True)
            else:
                raise SystemExit(f"run-action: unsupported action {step['uses']}")
        else:
            assert step.get("shell") == "bash", "only shell: bash"
            with tempfile.TemporaryDirectory() as tmp:
                out_file = os.path.join(tmp, "output")
                open(out_file, "w").close()
                script = os.path.join(tmp, "step.sh")
                with open(script, "w") as f:
                    f.write(step["run"])
                env = dict(os.environ)
                env.update({k: render(v) for k, v in step.get("env", {}).items()})
                env["GITHUB_OUTPUT"] = out_file
                env["GITHUB_ACTION_PATH"] = github["action_path"]
                # GitHub runs `shell: bash` as `bash --noprofile --norc -eo pipefail {0}`.
                code = subprocess.call(["bash", "--noprofile", "--norc", "-eo", "pipefail", script], env=env)
                for line in open(out_file).read().splitlines():
                    key, sep, value = line.partition("=")
                    if sep:
                        outputs[key] = value
            if code != 0:
                print(f"--- failed with exit code {code}: {name}", flush=True)
                failed = code
        if "id" in step:
            steps[step["id"]] = outputs

    result = {k: render(v["value"]) for k, v in action.get("outputs", {}).items()}
    with open(a.outputs, "w") as f:
        json.dump(result, f, indent=1)
    sys.exit(failed)


if __name__ == "__main__":
    main()
