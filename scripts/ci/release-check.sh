#!/usr/bin/env bash
# Release checks: builds the release artifacts with scripts/release.sh, then installs and runs
# them the ways users will:
#   - the wheel with pip in a fresh venv, with pipx and with uv tool install (no index: only the
#     built wheels), then `elfcheck --version` and a real check of an example package;
#   - the npm tarballs into a temporary project, then `npx elfcheck --version`, and the
#     launcher's error when the platform package was left out;
#   - each static binary alone in an empty root (chroot, no libc at all; aarch64 under
#     qemu-user-static copied into that root), --version and a real check;
#   - each binary zipped as a custom runtime's `bootstrap` and checked by elfcheck itself
#     (provided.al2, its CPU: exit 0; the other CPU: exit 1);
#   - cargo check for Windows and macOS targets, and the declared MSRV (scripts/ci/msrv.sh);
#   - the GitHub Action run here on the built archive (scripts/ci/action-check.sh), the release
#     workflow and action.yml linted (scripts/ci/lint-workflows.sh), and the pre-commit hooks
#     installed from this repository (scripts/ci/precommit-check.sh: compiles once, ~3 min).
# Prints each step's time and ends with "N passed, N failed"; exits 1 if any step failed.
#
# usage: scripts/ci/release-check.sh [WORKDIR]   (default target/release-check)
# Set RELEASE_CHECK_DIST=DIR to check artifacts already built there (skips the build).
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2
ROOT=$(pwd)
WORK=${1:-$ROOT/target/release-check}
DIST=${RELEASE_CHECK_DIST:-$WORK/dist}
# Steps run in other directories (npm projects, chroots): every path is absolute.
case $WORK in /*) ;; *) WORK=$ROOT/$WORK ;; esac
case $DIST in /*) ;; *) DIST=$ROOT/$DIST ;; esac
EXAMPLE=$ROOT/examples/python-built-on-mac.zip
# Tools from PyPI, pinned; installed into one venv that later runs reuse.
MATURIN=maturin==1.16.0
UV=uv==0.13.8
PIPX=pipx==1.18.4

version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
passed=0
failed=0
summary=()
now() { date +%s.%N; }

# run_step NAME COMMAND...: runs a step, prints its time, counts it; a failure does not stop
# the later steps (each says something of its own).
run_step() {
  local name=$1 t0 rc secs
  shift
  printf '\n==> %s\n' "$name"
  t0=$(now)
  "$@"
  rc=$?
  secs=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }')
  if [ $rc -eq 0 ]; then
    passed=$((passed + 1)); summary+=("ok    ${secs}s  $name")
    printf -- '--> ok (%s s): %s\n' "$secs" "$name"
  else
    failed=$((failed + 1)); summary+=("FAIL  ${secs}s  $name")
    printf -- '--> FAIL (%s s, exit %s): %s\n' "$secs" "$rc" "$name"
  fi
}

# expect_exit CODE COMMAND...: runs COMMAND, output to the log, and checks its exit code.
expect_exit() {
  local want=$1 got
  shift
  "$@"
  got=$?
  if [ "$got" -ne "$want" ]; then
    echo "expected exit $want, got $got: $*" >&2
    return 1
  fi
}

# expect_output PATTERN... -- COMMAND...: runs COMMAND (any exit code), prints its stdout and
# stderr, and checks that every PATTERN (extended regex) is in them.
expect_output() {
  local patterns=() out p ok=0
  while [ "$1" != -- ]; do patterns+=("$1"); shift; done
  shift
  out=$("$@" 2>&1)
  printf '%s\n' "$out"
  for p in "${patterns[@]}"; do
    grep -qE -- "$p" <<<"$out" || { echo "output lacks /$p/: $*" >&2; ok=1; }
  done
  return $ok
}

tools() {
  local missing=() tool
  for tool in aarch64-linux-gnu-gcc:gcc-aarch64-linux-gnu qemu-aarch64-static:qemu-user-static \
    readelf:binutils file:file zip:zip unzip:unzip shellcheck:shellcheck; do
    command -v "${tool%%:*}" >/dev/null 2>&1 || missing+=("${tool#*:}")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" || return 1
  fi
  rustup target add x86_64-unknown-linux-musl aarch64-unknown-linux-musl x86_64-pc-windows-gnu \
    aarch64-apple-darwin x86_64-apple-darwin || return 1
  if [ ! -x "$WORK/tools/bin/uv" ]; then
    python3 -m venv "$WORK/tools" && "$WORK/tools/bin/pip" install -q "$MATURIN" "$UV" "$PIPX" || return 1
  fi
  "$WORK/tools/bin/maturin" --version && "$WORK/tools/bin/uv" --version
}

build() {
  rm -rf "$DIST" "$WORK/unpacked" && PATH="$WORK/tools/bin:$PATH" scripts/release.sh "$DIST" || return 1
  (cd "$DIST" && sha256sum --check --quiet SHA256SUMS) && echo "SHA256SUMS verified"
}

# The example holds a Mach-O extension and a too-new-glibc extension: two errors, exit 1.
real_check() {
  expect_output 'error\[macho-binary\]' 'error\[glibc-too-new\]' '^2 errors' -- \
    expect_exit 1 "$@" check --runtime python3.11 "$EXAMPLE"
}

pip_venv() {
  local venv=$WORK/pip-venv
  rm -rf "$venv" && python3 -m venv "$venv" || return 1
  # No index: pip must pick this machine's wheel out of the built ones by its tags.
  "$venv/bin/pip" install -q --no-index --find-links "$DIST" "elfcheck==$version" || return 1
  expect_output "^elfcheck $version\$" -- "$venv/bin/elfcheck" --version && real_check "$venv/bin/elfcheck"
}

pipx_install() {
  local home=$WORK/pipx
  rm -rf "$home"
  PIPX_HOME=$home PIPX_BIN_DIR=$home/bin PIPX_MAN_DIR=$home/man "$WORK/tools/bin/pipx" install \
    --pip-args="--no-index --find-links $DIST" "elfcheck==$version" || return 1
  expect_output "^elfcheck $version\$" -- "$home/bin/elfcheck" --version && real_check "$home/bin/elfcheck"
}

uv_tool_install() {
  local home=$WORK/uv
  rm -rf "$home"
  UV_TOOL_DIR=$home/tools UV_TOOL_BIN_DIR=$home/bin UV_CACHE_DIR=$home/cache UV_PYTHON_DOWNLOADS=never \
    "$WORK/tools/bin/uv" tool install --no-index --find-links "$DIST" "elfcheck==$version" || return 1
  expect_output "^elfcheck $version\$" -- "$home/bin/elfcheck" --version && real_check "$home/bin/elfcheck"
}

npm_project() {
  local proj=$WORK/npm-project
  local cpu
  case "$(uname -m)" in x86_64) cpu=x64 ;; aarch64) cpu=arm64 ;; *) echo "no npm package for $(uname -m)"; return 1 ;; esac
  rm -rf "$proj" && mkdir -p "$proj" && (cd "$proj" && npm init -y >/dev/null) || return 1
  # The platform package is given as a tarball too: it is not on the registry (yet), and npm
  # takes the local one for the main package's optional dependency of the same version. The
  # other platforms' packages do not match this machine's os/cpu and are skipped. --offline:
  # nothing is asked of the registry, where those packages may not exist yet.
  (cd "$proj" && npm install --offline --no-audit --no-fund \
    "$DIST/elfcheck-$version.tgz" "$DIST/elfcheck-cli-linux-$cpu-$version.tgz") || return 1
  (cd "$proj" && expect_output "^elfcheck $version\$" -- npx --no-install elfcheck --version &&
    real_check npx --no-install elfcheck)
}

npm_missing_platform() {
  local proj=$WORK/npm-project-no-platform
  rm -rf "$proj" && mkdir -p "$proj" && (cd "$proj" && npm init -y >/dev/null) || return 1
  (cd "$proj" && npm install --offline --no-audit --no-fund --omit=optional "$DIST/elfcheck-$version.tgz") || return 1
  (cd "$proj" && expect_output 'platform package @elfcheck/cli-linux-.* is not installed' -- \
    expect_exit 2 npx --no-install elfcheck --version)
}

# The binary of a target as released: taken out of its archive.
binary_of() {
  local dir=$WORK/unpacked
  local name=elfcheck-$version-$1
  if [ ! -x "$dir/$name/elfcheck" ]; then
    mkdir -p "$dir" && tar -C "$dir" -xzf "$DIST/$name.tar.gz" >&2 || return 1
  fi
  echo "$dir/$name/elfcheck"
}

# An empty root with only the binary (and, for aarch64 on another CPU, the static qemu):
# no libc, no loader, no /proc. The example package is copied in for a real check.
chroot_run() {
  local target=$1 root=$WORK/chroot-$1 runner=()
  rm -rf "$root" && mkdir -p "$root" && cp "$(binary_of "$target")" "$root/elfcheck" && cp "$EXAMPLE" "$root/example.zip" || return 1
  case "$target" in
    aarch64-*)
      if [ "$(uname -m)" != aarch64 ]; then
        # binfmt_misc is not mounted in this container, so the kernel cannot start a foreign
        # binary by itself: run it under qemu-aarch64-static (a static binary as well).
        cp "$(command -v qemu-aarch64-static)" "$root/qemu-aarch64-static" || return 1
        runner=(/qemu-aarch64-static)
      fi ;;
  esac
  echo "files in the root: $(cd "$root" && echo *)"
  expect_output "^elfcheck $version\$" -- chroot "$root" "${runner[@]}" /elfcheck --version &&
    expect_output 'error\[macho-binary\]' 'error\[glibc-too-new\]' -- \
      expect_exit 1 chroot "$root" "${runner[@]}" /elfcheck check --runtime python3.11 /example.zip
}

# elfcheck checks its own binary as a provided.al2 custom runtime: `bootstrap`, mode 755.
self_check() {
  local target=$1 cpu other dir=$WORK/self-$1
  case "$target" in x86_64-*) cpu=x86_64; other=arm64 ;; aarch64-*) cpu=arm64; other=x86_64 ;; esac
  rm -rf "$dir" && mkdir -p "$dir" || return 1
  install -m 755 "$(binary_of "$target")" "$dir/bootstrap" &&
    (cd "$dir" && zip -q -X function.zip bootstrap) || return 1
  zipinfo "$dir/function.zip" bootstrap
  local checker
  checker=$(binary_of x86_64-unknown-linux-musl)
  expect_output "^0 errors" -- expect_exit 0 "$checker" check --runtime provided.al2 --arch "$cpu" "$dir/function.zip" &&
    expect_output 'error\[arch-mismatch\]' -- expect_exit 1 "$checker" check --runtime provided.al2 --arch "$other" "$dir/function.zip"
}

cargo_check_target() {
  cargo check --locked --target "$1" --target-dir "$ROOT/target/check-other-os"
}

mkdir -p "$WORK" && rm -rf "$WORK/unpacked"
run_step "tools (apt: cross linker, qemu; rustup targets; maturin, uv, pipx)" tools
if [ -z "${RELEASE_CHECK_DIST:-}" ]; then
  run_step "scripts/release.sh $DIST (both musl targets, wheels, sdist, archives, npm)" build
fi
run_step "pip install the wheel into a fresh venv; --version; check the example (exit 1)" pip_venv
run_step "pipx install the wheel; --version; check the example" pipx_install
run_step "uv tool install the wheel; --version; check the example" uv_tool_install
run_step "npm install the packed tarballs; npx elfcheck --version; check the example" npm_project
run_step "npm install --omit=optional: the launcher names the missing platform package (exit 2)" npm_missing_platform
for t in x86_64-unknown-linux-musl aarch64-unknown-linux-musl; do
  run_step "$t: runs alone in an empty root (chroot, no libc)" chroot_run "$t"
  run_step "$t: elfcheck passes itself as a provided.al2 bootstrap" self_check "$t"
done
run_step "cargo check --target x86_64-pc-windows-gnu" cargo_check_target x86_64-pc-windows-gnu
run_step "cargo check --target aarch64-apple-darwin" cargo_check_target aarch64-apple-darwin
run_step "cargo check --target x86_64-apple-darwin" cargo_check_target x86_64-apple-darwin
run_step "MSRV (scripts/ci/msrv.sh)" scripts/ci/msrv.sh
run_step "GitHub Action run locally on the built archive (scripts/ci/action-check.sh)" scripts/ci/action-check.sh "$DIST"
run_step "release workflow and action.yml: schema, actionlint, zizmor, shellcheck" scripts/ci/lint-workflows.sh
run_step "pre-commit hooks from this repository, built from source (scripts/ci/precommit-check.sh)" scripts/ci/precommit-check.sh

printf '\n==> release checks\n'
printf '  %s\n' "${summary[@]}"
echo "release-check: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
