#!/usr/bin/env bash
# pre-commit hooks end to end: a throwaway git repository that uses this repository's hooks
# (.pre-commit-config.yaml with `repo: <this repository>`, `rev: <HEAD>`), pre-commit (pinned,
# from PyPI) installing elfcheck from source as the `language: python` hook asks, and:
#   1. hook elfcheck on a committed broken Lambda zip: fails and names the findings (the first
#      run installs: pip builds the maturin project, which compiles elfcheck);
#   2. the same again, timed: the installed hook is reused, must take < 30 s;
#   3. hook elfcheck-build-dir on .aws-sam/build (its default args) holding a broken build:
#      fails; with `args:` pointing at a good directory: passes.
# HEAD is what pre-commit installs: commit first (uncommitted changes are not tried).
# Ends with "N passed, N failed".
#
# usage: scripts/ci/precommit-check.sh   (PRE_COMMIT_HOME defaults to target/precommit-check/home,
# so a second run of this script reuses the first install)
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2
ROOT=$(pwd)
WORK=$ROOT/target/precommit-check
PRE_COMMIT=pre-commit==4.7.0
export PRE_COMMIT_HOME=${PRE_COMMIT_HOME:-$WORK/home}
passed=0
failed=0
now() { date +%s.%N; }
step() { printf '\n==> %s\n' "$*"; }
result() { # result OK? NAME SECONDS
  if [ "$1" = 0 ]; then passed=$((passed + 1)); echo "--> ok ($3 s): $2"
  else failed=$((failed + 1)); echo "--> FAIL ($3 s): $2"; fi
}
timed() { # timed COMMAND...: runs it, sets $rc and $secs, output to $out
  local t0
  t0=$(now)
  out=$("$@" 2>&1)
  rc=$?
  secs=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }')
  printf '%s\n' "$out" | sed 's/^/    | /'
}

rev=$(git rev-parse HEAD)
if [ -n "$(git status --porcelain -- .pre-commit-hooks.yaml pyproject.toml Cargo.toml Cargo.lock src)" ]; then
  echo "note: uncommitted changes in the hook's sources are not tried; pre-commit installs $rev"
fi

step "pre-commit ($PRE_COMMIT) in a venv"
if [ ! -x "$WORK/venv/bin/pre-commit" ]; then
  python3 -m venv "$WORK/venv" && "$WORK/venv/bin/pip" install -q "$PRE_COMMIT" || exit 1
fi
"$WORK/venv/bin/pre-commit" --version

repo=$WORK/repo
rm -rf "$repo" && mkdir -p "$repo/.aws-sam/build" "$repo/good-build" || exit 1
cp examples/python-built-on-mac.zip "$repo/function.zip"
# The broken function unpacked, as `sam build` would leave it; a good build: one text file.
(cd "$repo/.aws-sam/build" && unzip -q "$ROOT/examples/python-built-on-mac.zip")
echo 'def handler(event, context): return 1' > "$repo/good-build/app.py"
cat > "$repo/.pre-commit-config.yaml" <<EOF
repos:
  - repo: $ROOT
    rev: $rev
    hooks:
      - id: elfcheck
        args: [--runtime, python3.11]
      - id: elfcheck-build-dir
        args: [.aws-sam/build, --runtime, python3.11]
        alias: build-dir-broken
      - id: elfcheck-build-dir
        args: [good-build, --runtime, python3.11]
        alias: build-dir-good
EOF
(cd "$repo" && git init -q && git add function.zip .pre-commit-config.yaml good-build &&
  git -c user.name=ci -c user.email=ci@example.invalid commit -qm "a Lambda package built on a Mac") || exit 1

run_hook() { (cd "$repo" && "$WORK/venv/bin/pre-commit" run "$@" --color never); }

step "hook elfcheck on the broken zip (installs the hook the first time)"
timed run_hook elfcheck --files function.zip
[ "$rc" -eq 1 ] && grep -q 'error\[macho-binary\]' <<<"$out" && grep -q 'error\[glibc-too-new\]' <<<"$out"
result $? "hook elfcheck fails on function.zip with both findings (exit $rc)" "$secs"
first=$secs

step "hook elfcheck again: the installed hook is reused"
timed run_hook elfcheck --files function.zip
second=$secs
[ "$rc" -eq 1 ] && grep -q 'error\[macho-binary\]' <<<"$out" &&
  awk -v s="$second" 'BEGIN { exit !(s < 30) }'
result $? "second run < 30 s (first, with install: $first s; second: $second s)" "$secs"

step "hook elfcheck-build-dir on .aws-sam/build (broken)"
timed run_hook build-dir-broken
[ "$rc" -eq 1 ] && grep -q 'error\[macho-binary\]' <<<"$out"
result $? "hook elfcheck-build-dir fails on the broken build (exit $rc)" "$secs"

step "hook elfcheck-build-dir with args: [good-build]"
timed run_hook build-dir-good
[ "$rc" -eq 0 ] && grep -q 'Passed' <<<"$out"
result $? "hook elfcheck-build-dir passes on a good build (exit $rc)" "$secs"

echo "precommit-check: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
