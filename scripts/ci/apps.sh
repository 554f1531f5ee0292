#!/usr/bin/env bash
# Builds the test applications of tests/apps with their real tools (AWS SAM, AWS CDK,
# Serverless Framework) and runs the whole-application tests against the builds: every
# function's runtime, architecture, layers and findings against tests/apps/expected.json, the
# project roots, and `fix` (plans, and fixed copies made with pip from PyPI).
#
#   usage: scripts/ci/apps.sh [OUTDIR]        (default: target/apps)
#
# Needs what tests/apps/build.sh needs (see tests/apps/README.md): Debian 12 or python3.11,
# node, npm and make; PyPI and the npm registry. Prints the time of each step.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
OUT=${1:-$ROOT/target/apps}

now() { date +%s%N; }
step() { # NAME COMMAND...
  local name=$1 t0 rc=0
  shift
  printf '==> %s\n' "$name" >&2
  t0=$(now)
  "$@" || rc=$?
  printf '==> %s: %s s%s\n' "$name" "$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')" \
    "$([ "$rc" -eq 0 ] || echo " (failed, exit $rc)")" >&2
  return "$rc"
}

T0=$(now)
cd "$ROOT"
step "build the apps: tests/apps/build.sh $OUT" tests/apps/build.sh "$OUT"
step "compile the whole-application tests" cargo test --quiet --test apps --no-run
step "whole-application tests (ELFCHECK_APPS_DIR=$OUT)" \
  env ELFCHECK_APPS_DIR="$OUT" cargo test --quiet --test apps -- --include-ignored
printf '==> scripts/ci/apps.sh: %s s\n' "$(awk -v a="$T0" -v b="$(now)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')" >&2
