#!/usr/bin/env bash
# Builds the release artifacts of elfcheck into OUTDIR, flat, as they are attached to a release:
#
#   elfcheck-<version>-<target>.tar.gz     the binary, README.md (a .zip for Windows targets)
#   elfcheck-<version>-py3-none-<tags>.whl the PyPI wheel of each target (maturin, bindings = "bin")
#   elfcheck-<version>.tar.gz              the PyPI sdist (builds from source with Rust)
#   elfcheck-cli-<os>-<cpu>-<version>.tgz  the npm platform package of each target
#   elfcheck-<version>.tgz                 the npm main package (a launcher, bin/elfcheck)
#   SHA256SUMS                             sha256sum of every such file in OUTDIR (files already
#                                          there too: the release workflow adds the wheels first)
#
# usage: scripts/release.sh [--targets "T1 T2"] [--prebuilt DIR] [--no-sdist] OUTDIR
#
# Default targets: the static Linux binaries this machine builds, x86_64-unknown-linux-musl and
# aarch64-unknown-linux-musl (the latter linked with Debian's gcc-aarch64-linux-gnu).
# Each binary is compiled once, by maturin (`maturin build` runs cargo), and that same file goes
# into the wheel, the archive and the npm package (the script checks that they are identical).
# With --prebuilt DIR nothing is compiled and no wheel is made: DIR/<target>/elfcheck[.exe] are
# packed (the release workflow builds wheels with maturin-action on each native runner and packs
# the binaries here).
#
# Needs: cargo + rustup targets, maturin (pip install maturin), npm, tar, gzip, sha256sum, zip
# (Windows targets only), readelf (static check of Linux binaries).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
targets="x86_64-unknown-linux-musl aarch64-unknown-linux-musl"
prebuilt=""
sdist=1
outdir=""
while [ $# -gt 0 ]; do
  case "$1" in
    --targets) targets=${2//,/ }; shift 2 ;;
    --targets=*) targets=${1#--targets=}; targets=${targets//,/ }; shift ;;
    --prebuilt) prebuilt=$2; shift 2 ;;
    --no-sdist) sdist=0; shift ;;
    -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) echo "release.sh: unknown option $1" >&2; exit 2 ;;
    *) [ -z "$outdir" ] || { echo "release.sh: one OUTDIR only" >&2; exit 2; }; outdir=$1; shift ;;
  esac
done
[ -n "$outdir" ] || { echo "usage: scripts/release.sh [--targets \"T1 T2\"] [--prebuilt DIR] OUTDIR" >&2; exit 2; }
mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)
[ -z "$prebuilt" ] || prebuilt=$(cd "$prebuilt" && pwd)

# The version is Cargo.toml's: the first `version = "..."` line, which is [package]'s.
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$ROOT/Cargo.toml" | head -n 1)
[ -n "$version" ] || { echo "release.sh: no version in Cargo.toml" >&2; exit 2; }

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f s", b - a }'; }
step() { printf '\n==> %s\n' "$*" >&2; }

# target triple -> "npm-os npm-cpu executable-name"; the npm os/cpu are Node's process.platform
# and process.arch, which npm compares with the package's `os` and `cpu` fields.
platform_of() {
  case "$1" in
    x86_64-unknown-linux-musl) echo "linux x64 elfcheck" ;;
    aarch64-unknown-linux-musl) echo "linux arm64 elfcheck" ;;
    x86_64-apple-darwin) echo "darwin x64 elfcheck" ;;
    aarch64-apple-darwin) echo "darwin arm64 elfcheck" ;;
    x86_64-pc-windows-msvc) echo "win32 x64 elfcheck.exe" ;;
    *) echo "release.sh: no npm platform known for target $1" >&2; return 1 ;;
  esac
}

# Every platform package the main npm package lists, whatever this run builds: a release
# publishes all of them (the release workflow), and the launcher finds the one npm installed.
ALL_NPM_PLATFORMS="linux-x64 linux-arm64 darwin-x64 darwin-arm64 win32-x64"

# wheel platform tags per target: a static musl binary runs on any Linux of its CPU, glibc or
# musl, so its wheel carries both manylinux (glibc, 2.17 = manylinux2014, what pip >= 19.3
# knows) and musllinux tags, and pip, pipx and uv pick the same wheel on Debian and on Alpine.
wheel_compat() {
  case "$1" in
    *-linux-musl) echo "manylinux2014 musllinux_1_1" ;;
    *) echo "" ;;
  esac
}

check_static() {
  local bin=$1
  if readelf -lW "$bin" | grep -q 'INTERP'; then
    echo "release.sh: $bin has a program interpreter: not statically linked" >&2; return 1
  fi
  if readelf -dW "$bin" | grep -q '(NEEDED)'; then
    echo "release.sh: $bin needs shared libraries: not statically linked" >&2; return 1
  fi
  echo "    $(file -b "$bin" | cut -d, -f1-2,4)" >&2
}

stage=$(mktemp -d "${TMPDIR:-/tmp}/elfcheck-release.XXXXXX")
trap 'rm -rf "$stage"' EXIT

sha256() { sha256sum "$1" | cut -d' ' -f1; }

# ---------------------------------------------------------------------------------------------
# 1. Binaries (and wheels): one compile per target.
declare -A binary
for target in $targets; do
  read -r npm_os npm_cpu exe < <(platform_of "$target")
  if [ -n "$prebuilt" ]; then
    binary[$target]="$prebuilt/$target/$exe"
    [ -f "${binary[$target]}" ] || { echo "release.sh: missing ${binary[$target]}" >&2; exit 2; }
  else
    step "build $target (maturin build --release)"
    t0=$(now)
    if command -v rustup >/dev/null && ! rustup target list --installed | grep -qx "$target"; then
      rustup target add "$target"
    fi
    if [ "$target" = aarch64-unknown-linux-musl ] && [ "$(uname -m)" != aarch64 ] &&
      [ -z "${CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_LINKER:-}" ]; then
      # Rust ships musl's C runtime for this target (self-contained): only a linker is needed.
      command -v aarch64-linux-gnu-gcc >/dev/null ||
        { echo "release.sh: need aarch64-linux-gnu-gcc (apt-get install gcc-aarch64-linux-gnu)" >&2; exit 2; }
      export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_LINKER=aarch64-linux-gnu-gcc
    fi
    compat=$(wheel_compat "$target")
    # shellcheck disable=SC2086
    (cd "$ROOT" && maturin build --release --locked --target "$target" \
      ${compat:+--compatibility $compat} --out "$stage/wheels" >&2)
    binary[$target]="$ROOT/target/$target/release/$exe"
    echo "    built in $(elapsed "$t0")" >&2
  fi
  case "$target" in *-linux-*) check_static "${binary[$target]}" ;; esac
done

if [ -z "$prebuilt" ]; then
  # The binary in each wheel must be the very file packed below: one build, three packagings.
  for whl in "$stage"/wheels/*.whl; do
    mkdir -p "$stage/unwheel" && rm -rf "$stage/unwheel"/*
    (cd "$stage/unwheel" && python3 -m zipfile -e "$whl" .)
    inner=$(find "$stage/unwheel" -path '*.data/scripts/*' -type f | head -n 1)
    match=""
    for target in $targets; do
      [ "$(sha256 "$inner")" = "$(sha256 "${binary[$target]}")" ] && match=$target
    done
    [ -n "$match" ] || { echo "release.sh: $(basename "$whl") holds a binary packed nowhere else" >&2; exit 1; }
    cp "$whl" "$outdir/"
  done
  if [ "$sdist" = 1 ]; then
    step "sdist"
    (cd "$ROOT" && maturin sdist --out "$outdir" >&2)
  fi
fi

# ---------------------------------------------------------------------------------------------
# 2. Archives: elfcheck-<version>-<target>/{elfcheck,README.md}, reproducible (sorted, no owner,
#    fixed times, gzip without a name or time stamp).
step "archives"
for target in $targets; do
  read -r npm_os npm_cpu exe < <(platform_of "$target")
  name="elfcheck-$version-$target"
  mkdir -p "$stage/archive/$name"
  install -m 755 "${binary[$target]}" "$stage/archive/$name/$exe"
  install -m 644 "$ROOT/README.md" "$stage/archive/$name/README.md"
  case "$target" in
    *-windows-*)
      (cd "$stage/archive" && rm -f "$outdir/$name.zip" && TZ=UTC touch -d '1980-01-01 00:00:00' "$name" "$name"/* &&
        zip -qrX "$outdir/$name.zip" "$name")
      echo "    $name.zip" >&2 ;;
    *)
      tar -C "$stage/archive" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner \
        -cf - "$name" | gzip -9n > "$outdir/$name.tar.gz"
      echo "    $name.tar.gz" >&2 ;;
  esac
done

# ---------------------------------------------------------------------------------------------
# 3. npm: one platform package per target, then the main package.
step "npm packages"
for target in $targets; do
  read -r npm_os npm_cpu exe < <(platform_of "$target")
  dir="$stage/npm/cli-$npm_os-$npm_cpu"
  mkdir -p "$dir/bin"
  install -m 755 "${binary[$target]}" "$dir/bin/$exe"
  # No `libc` field: the Linux binaries are static (musl linked in, no program interpreter),
  # so they run on glibc and musl systems alike; a `libc` field would only make npm skip the
  # package on the other libc. Only a dynamically linked build would need one.
  NAME="@elfcheck/cli-$npm_os-$npm_cpu" VERSION="$version" OS="$npm_os" CPU="$npm_cpu" EXE="$exe" \
    TARGET="$target" node -e '
      const e = process.env;
      const pkg = {
        name: e.NAME,
        version: e.VERSION,
        description: `The elfcheck binary for ${e.OS} ${e.CPU} (${e.TARGET}); install the package elfcheck, which uses it`,
        os: [e.OS],
        cpu: [e.CPU],
        files: [`bin/${e.EXE}`],
        preferUnplugged: true,
        publishConfig: { access: "public" },
      };
      process.stdout.write(JSON.stringify(pkg, null, 2) + "\n");
    ' > "$dir/package.json"
  printf '# %s\n\nThe `elfcheck` binary for %s %s (`%s`). Install [`elfcheck`](https://www.npmjs.com/package/elfcheck) instead: it depends on this package on this platform only.\n' \
    "@elfcheck/cli-$npm_os-$npm_cpu" "$npm_os" "$npm_cpu" "$target" > "$dir/README.md"
  (cd "$dir" && npm pack --silent --pack-destination "$outdir" >/dev/null)
  echo "    elfcheck-cli-$npm_os-$npm_cpu-$version.tgz" >&2
done
main="$stage/npm/elfcheck"
cp -R "$ROOT/npm/elfcheck" "$main"
chmod 755 "$main/bin/elfcheck"
(cd "$main" && VERSION="$version" PLATFORMS="$ALL_NPM_PLATFORMS" node -e '
  const fs = require("fs");
  const pkg = JSON.parse(fs.readFileSync("package.json", "utf8"));
  pkg.version = process.env.VERSION;
  pkg.optionalDependencies = {};
  for (const p of process.env.PLATFORMS.split(" ")) pkg.optionalDependencies[`@elfcheck/cli-${p}`] = process.env.VERSION;
  fs.writeFileSync("package.json", JSON.stringify(pkg, null, 2) + "\n");
' && npm pack --silent --pack-destination "$outdir" >/dev/null)
echo "    elfcheck-$version.tgz" >&2

# ---------------------------------------------------------------------------------------------
# 4. Checksums of everything above, by file name (release assets are flat).
step "SHA256SUMS"
(cd "$outdir" && rm -f SHA256SUMS &&
  find . -maxdepth 1 -type f \( -name '*.tar.gz' -o -name '*.zip' -o -name '*.whl' -o -name '*.tgz' \) \
    -printf '%f\n' | LC_ALL=C sort | xargs sha256sum > SHA256SUMS.tmp && mv SHA256SUMS.tmp SHA256SUMS)

step "artifacts in $outdir"
(cd "$outdir" && LC_ALL=C ls -l | awk 'NR > 1 { printf "    %10d  %s\n", $5, $9 }') >&2
