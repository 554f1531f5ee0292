#!/usr/bin/env bash
# Runs the GitHub Action (action.yml) here, step by step, with the runner's environment
# variables set (scripts/ci/run-action.py), the download pointed at locally built release
# artifacts through ELFCHECK_ACTION_BASE_URL=file://..., and checks its outputs, annotations,
# job summary and SARIF file:
#   1. a broken function and a custom runtime without the executable bit: exit 1, 3 errors,
#      annotations, a summary row per input, SARIF with 3 results; the binary is downloaded
#      and its checksum verified;
#   2. elfcheck's own binary as a provided.al2 bootstrap, version from the action's tag: exit
#      0, the binary comes from the cache (no download);
#   3. an archive whose checksum does not match SHA256SUMS: the download step fails, no scan;
#   4. a missing package: exit 2 and an error annotation.
# Ends with "N passed, N failed".
#
# usage: scripts/ci/action-check.sh [DIST]   DIST holds scripts/release.sh's output; default
# target/release-check/dist, built (x86_64 only) when it is missing.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2
ROOT=$(pwd)
WORK=$ROOT/target/action-check
DIST=${1:-$ROOT/target/release-check/dist}
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
target=x86_64-unknown-linux-musl
[ "$(uname -m)" = aarch64 ] && target=aarch64-unknown-linux-musl
passed=0
failed=0
now() { date +%s.%N; }

if [ ! -f "$DIST/elfcheck-$version-$target.tar.gz" ]; then
  echo "==> building the release archive for $target into $DIST"
  scripts/release.sh --targets "$target" --no-sdist "$DIST" || exit 1
fi

rm -rf "$WORK" && mkdir -p "$WORK"
# A release's download URLs: <base>/v<version>/<asset>.
mkdir -p "$WORK/releases/v$version" && cp "$DIST"/* "$WORK/releases/v$version/"
# The same release with one archive changed after SHA256SUMS was written.
mkdir -p "$WORK/tampered/v$version" && cp "$DIST"/* "$WORK/tampered/v$version/"
printf 'x' >> "$WORK/tampered/v$version/elfcheck-$version-$target.tar.gz"

# The runner's environment, as on a Linux runner.
export RUNNER_OS=Linux RUNNER_ARCH=X64 RUNNER_TEMP=$WORK/runner-temp RUNNER_TOOL_CACHE=$WORK/tool-cache
[ "$target" = aarch64-unknown-linux-musl ] && export RUNNER_ARCH=ARM64
export GITHUB_ACTIONS=true CI=true GITHUB_WORKSPACE=$WORK/workspace GITHUB_REPOSITORY=example/elfcheck
export ELFCHECK_ACTION_BASE_URL=file://$WORK/releases
mkdir -p "$RUNNER_TEMP" "$RUNNER_TOOL_CACHE" "$GITHUB_WORKSPACE"

# The workspace: the two example packages and a good custom runtime (elfcheck itself).
cp examples/python-built-on-mac.zip examples/custom-runtime.zip "$GITHUB_WORKSPACE/"
mkdir -p "$WORK/good" && tar -C "$WORK/good" -xzf "$DIST/elfcheck-$version-$target.tar.gz" &&
  install -m 755 "$WORK/good/elfcheck-$version-$target/elfcheck" "$WORK/good/bootstrap" &&
  (cd "$WORK/good" && zip -q -X "$GITHUB_WORKSPACE/good-runtime.zip" bootstrap) || exit 1

# run_action NAME ARGS...: runs the action in the workspace; leaves $log, $outputs, $summary, $rc.
run_action() {
  local name=$1
  shift
  log=$WORK/$name.log outputs=$WORK/$name.outputs.json summary=$WORK/$name.summary.md
  : > "$summary"
  (cd "$GITHUB_WORKSPACE" && GITHUB_STEP_SUMMARY=$summary python3 "$ROOT/scripts/ci/run-action.py" "$ROOT" \
    --outputs "$outputs" "$@") > "$log" 2>&1
  rc=$?
}

check() { # check DESCRIPTION COMMAND...: one assertion
  if "${@:2}"; then echo "    ok: $1"; else echo "    FAILED: $1"; bad=1; fi
}
has() { grep -qE -- "$2" "$1"; }
count() { grep -cE -- "$2" "$1"; }
output() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$outputs" "$1"; }

scenario() { # scenario NAME: runs the function NAME, times it and counts it
  local t0 secs
  bad=0
  printf '\n==> %s\n' "$1"
  t0=$(now)
  "$1"
  secs=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }')
  if [ $bad -eq 0 ]; then passed=$((passed + 1)); echo "--> ok ($secs s)"
  else failed=$((failed + 1)); echo "--> FAIL ($secs s); the action's log:"; sed 's/^/    | /' "$log"; fi
}

broken_packages() {
  run_action broken --input "version=$version" --input "paths=python-built-on-mac.zip custom-runtime.zip" \
    --input runtime=python3.11 --input sarif=elfcheck.sarif
  check "exit code 1 (findings at or above error)" [ "$rc" -eq 1 ]
  check "downloaded and verified" has "$log" "^sha256 [0-9a-f]{64} elfcheck-$version-$target.tar.gz: verified"
  check "installed binary runs" has "$log" "^elfcheck $version$"
  check "saved to the cache before the check" has "$log" "^cache saved elfcheck-$version-$target"
  check "3 error annotations" [ "$(count "$log" '^::error file=')" -eq 3 ]
  check "annotation of the Mach-O extension" has "$log" '^::error file=python-built-on-mac.zip,title=macho-binary python-built-on-mac.zip!/fastjson/_speedups.cpython-311-darwin.so::'
  local bin=$RUNNER_TOOL_CACHE/elfcheck/$version/$target/elfcheck-$version-$target/elfcheck expected
  expected=$(cd "$GITHUB_WORKSPACE" && "$bin" check python-built-on-mac.zip custom-runtime.zip --runtime python3.11 --format github)
  check "annotations are what elfcheck --format github prints" [ "$(grep '^::' "$log")" = "$expected" ]
  check "output errors=3" [ "$(output errors)" = 3 ]
  check "output warnings=0" [ "$(output warnings)" = 0 ]
  check "output sarif-file" [ "$(output sarif-file)" = elfcheck.sarif ]
  check "SARIF file with 3 results" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["version"] == "2.1.0" and len(d["runs"][0]["results"]) == 3' "$GITHUB_WORKSPACE/elfcheck.sarif"
  check "summary header" has "$summary" "^### elfcheck $version: 3 errors, 0 warnings, 0 infos in 2 inputs"
  check "summary row: python-built-on-mac.zip 2 errors" has "$summary" '^\| `python-built-on-mac.zip` \| python3.11, x86_64 \| 2 \| 0 \| 0 \|$'
  check "summary row: custom-runtime.zip 1 error" has "$summary" '^\| `custom-runtime.zip` \| python3.11, x86_64 \| 1 \| 0 \| 0 \|$'
  check "summary says failed" has "$summary" '^Failed: findings at or above `error`'
  echo "    job summary:" && sed 's/^/    | /' "$summary"
}

good_runtime_from_cache() {
  run_action good --github "action_ref=v$version" --input paths=good-runtime.zip \
    --input runtime=provided.al2 --input arch="${RUNNER_ARCH/X64/x86_64}"
  check "exit code 0" [ "$rc" -eq 0 ]
  check "version taken from the action's tag v$version" has "$log" "^elfcheck $version for $target$"
  check "binary restored from the cache" has "$log" "^cache key elfcheck-$version-$target: hit"
  check "no download" has "$log" '^--- skipped \(if: .*\): Download elfcheck'
  check "no cache save" has "$log" '^--- skipped \(if: .*\): Save elfcheck'
  check "no annotations" [ "$(count "$log" '^::')" -eq 0 ]
  check "output errors=0" [ "$(output errors)" = 0 ]
  check "output sarif-file empty" [ -z "$(output sarif-file)" ]
  check "summary row, 0 errors" has "$summary" '^\| `good-runtime.zip` \| provided.al2, (x86_64|arm64) \| 0 \| 0 \| 0 \|$'
  check "summary says passed" has "$summary" '^Passed: nothing at or above `error`'
}

checksum_mismatch() {
  local saved=$RUNNER_TOOL_CACHE
  export RUNNER_TOOL_CACHE=$WORK/tool-cache-tampered ELFCHECK_ACTION_BASE_URL=file://$WORK/tampered
  mkdir -p "$RUNNER_TOOL_CACHE"
  run_action tampered --input "version=v$version" --input paths=good-runtime.zip
  export RUNNER_TOOL_CACHE=$saved ELFCHECK_ACTION_BASE_URL=file://$WORK/releases
  check "exit code 1" [ "$rc" -eq 1 ]
  check "checksum mismatch annotation" has "$log" "^::error title=elfcheck::checksum mismatch for elfcheck-$version-$target.tar.gz"
  check "nothing installed" [ ! -e "$WORK/tool-cache-tampered/elfcheck/$version/$target/elfcheck-$version-$target" ]
  check "no scan" has "$log" '^--- skipped \(an earlier step failed\): Check packages'
}

missing_package() {
  run_action missing --input "version=$version" --input paths=no-such-package.zip
  check "exit code 2" [ "$rc" -eq 2 ]
  check "elfcheck's message" has "$log" 'no-such-package.zip'
  check "error annotation" has "$log" '^::error title=elfcheck::elfcheck could not check the packages \(exit 2'
}

scenario broken_packages
scenario good_runtime_from_cache
scenario checksum_mismatch
scenario missing_package
echo "action-check: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
