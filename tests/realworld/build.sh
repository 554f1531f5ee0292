#!/usr/bin/env bash
# Builds elfcheck's real-world acceptance packages from pinned PyPI wheels and npm packages.
#
#   bash tests/realworld/build.sh OUTDIR
#
# Writes one deterministic Lambda deployment zip per artifact into OUTDIR (plus OUTDIR/SHA256SUMS);
# cases.json beside this script says, for each, the runtime, the architecture and the verdict a
# correct checker reaches. Nothing is written outside OUTDIR and the download cache.
#
# Environment:
#   ELFCHECK_REALWORLD_CACHE  download cache (default $HOME/.cache/elfcheck-realworld): pypi/ holds
#                             the wheels, npm/ is npm's cache
#   PYTHON                    python 3 with pip (default python3)
#
# How the packages are made, as a user would make them:
# - Python: `pip install --no-deps --only-binary=:all: --platform P --python-version V
#   --implementation cp --target DIR` from the pinned wheels (each downloaded once with
#   `pip download`, its sha256 checked), then a check that DIR holds exactly the asked
#   distributions with the asked wheel tags. `--no-compile` (no .pyc); the `bin/` directory pip
#   writes console scripts to is dropped (their #! line names this machine's python).
# - npm: `npm install --os=O --cpu=C [--libc=L] --ignore-scripts --save-exact PKG@VERSION` in a
#   directory holding a one-line index.js handler, resolving transitive versions as of NPM_BEFORE
#   (npm --before), then a check that node_modules holds exactly the pinned name@version list.
#   The lockfiles (package-lock.json, node_modules/.package-lock.json) are dropped: they record
#   the registry URL, which depends on the machine's npm configuration. So is node_modules/.bin
#   (symlinks to command-line tools, never loaded by a function).
# - Zips: entries sorted, directories included, fixed timestamps (2024-01-01), Unix modes
#   0644/0755 (realworld.py zip). Same inputs and the same zlib give byte-identical zips.
#
# Needs: python3 with pip >= 22.1 (--root-user-action), npm >= 10 (--os/--cpu/--libc).
# About 210 MB of downloads the first time; with a warm cache no network is needed for the
# wheels and npm revalidates nothing (--prefer-offline).
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: bash tests/realworld/build.sh OUTDIR" >&2
    exit 2
fi
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${ELFCHECK_REALWORLD_CACHE:-$HOME/.cache/elfcheck-realworld}
PY=${PYTHON:-python3}
TOOL="$HERE/realworld.py"
NPM_BEFORE=2026-11-30T00:00:00Z

die() { echo "build.sh: $*" >&2; exit 1; }
"$PY" -m pip --version >/dev/null 2>&1 || die "pip is required ($PY -m pip)"
command -v npm >/dev/null 2>&1 || die "npm is required"
case $(npm --version) in [0-9].*) die "npm >= 10 is required (--os/--cpu/--libc)" ;; esac

export LC_ALL=C TZ=UTC PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_WARN_SCRIPT_LOCATION=1 PIP_ROOT_USER_ACTION=ignore
umask 022
mkdir -p "$1" "$CACHE/pypi" "$CACHE/npm"
OUT=$(cd "$1" && pwd)
CACHE=$(cd "$CACHE" && pwd)
STAGE=$(mktemp -d "${TMPDIR:-/tmp}/elfcheck-realworld.XXXXXX")
trap 'rm -rf "$STAGE"' EXIT

# ---------------------------------------------------------------------------------------------------
# Pins: every wheel, by exact file name and sha256 (as PyPI lists them)
# ---------------------------------------------------------------------------------------------------
WHEELS="
pillow-11.0.0-cp312-cp312-manylinux_2_28_x86_64.whl 00177a63030d612148e659b55ba99527803288cea7c75fb05766ab7981a8c1b7
pillow-11.0.0-cp310-cp310-manylinux_2_28_x86_64.whl 1a61b54f87ab5786b8479f81c4b11f4d61702830354520837f8cc791ebba0f5f
pillow-11.0.0-cp310-cp310-manylinux_2_17_x86_64.manylinux2014_x86_64.whl 88a58d8ac0cc0e7f3a014509f0455248a76629ca9b604eca7dc5927cc593c5e9
pillow-13.0.0-cp312-cp312-manylinux_2_27_aarch64.manylinux_2_28_aarch64.whl 8bf295fe459343bc6093c8e5e0df60bfa189e0fcb775a22e2c2488fdeccc6c0d
psycopg2_binary-2.9.10-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl 8cd9b4f2cfab88ed4a9106192de509464b75a906462fb846b936eabe45c2063e
psycopg2_binary-2.9.10-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl 512d29bb12608891e349af6a0cccedce51677725a921c07dba6342beaf576f9a
psycopg2_binary-2.9.13-cp312-cp312-manylinux_2_27_aarch64.manylinux_2_28_aarch64.whl 3dc3372b3731b3ef23407fe06b94f640ef87a2bda242fa386033d5589c87514a
MarkupSafe-3.0.2-cp312-cp312-macosx_11_0_arm64.whl 846ade7b71e3536c4e56b386c2a47adf5741d2d8b94ec9dc3e92e5e1ee1e2225
MarkupSafe-3.0.2-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl e17c96c14e19278594aa4841ec148115f9c7615a47382ecb6b82bd8fea3ab0c8
numpy-2.2.6-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl fd83c01228a688733f1ded5201c678f0c53ecc1006ffbc404db9f7a899ac6249
shapely-2.0.7-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl a9469f49ff873ef566864cb3516091881f217b5d231c8164f7883990eec88b73
cryptography-44.0.2-cp39-abi3-manylinux_2_28_x86_64.whl b042d2a275c8cee83a4b7ae30c45a15e6a4baa65a179a0ec2d78ebb90e4f6699
cffi-1.17.1-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl b62ce867176a75d03a665bad002af8e6d54644fad99a3c70905c543130e39d93
cffi-1.17.1-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl 610faea79c43e44c71e1ec53a554553fa22321b65fae24889706c0a84d4ad86d
pycparser-2.22-py3-none-any.whl c3702b6d3dd8c7abc1afa565d7e63d53a1d0bd86cdc24edd75470f4de499cfcc
lxml-5.3.1-cp312-cp312-manylinux_2_28_x86_64.whl d184f85ad2bb1f261eac55cddfcf62a70dee89982c978e92b9a74a1bfef2e367
grpcio-1.70.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl 2394e3381071045a706ee2eeb6e08962dd87e8999b90ac15c55f56fa5a8c9597
opencv_python_headless-4.11.0.86-cp37-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64.whl 0e0a27c19dd1f40ddff94976cfe43066fbbe9dfbb2ec1907d66c19caef42a57b
opencv_python-4.11.0.86-cp37-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64.whl 6b02611523803495003bd87362db3e1d2a0454a6a63025dc6658a9830570aa0d
pyodbc-5.2.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl 7e3cbc7075a46c411b531ada557c4aef13d034060a70077717124cabc1717e2d
rasterio-1.4.3-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl 8e90c2c300294265c16becc9822337ded0f01fb8664500b4d77890d633d8cd0e
"

wheel_sha() { # wheel_sha FILE: the pinned sha256
    local line
    line=$(grep -F " " <<<"$WHEELS" | grep -F -- "$1 " || true)
    [ -n "$line" ] || die "no pin for $1"
    echo "${line##* }"
}

# fetch_wheel FILE: CACHE/pypi/FILE, downloaded once with pip and checked against its pin.
fetch_wheel() {
    local file=$1 sha name version pyver abi plat dl
    sha=$(wheel_sha "$file")
    if [ -f "$CACHE/pypi/$file" ] && [ "$("$PY" "$TOOL" sha256 "$CACHE/pypi/$file")" = "$sha" ]; then
        return
    fi
    read -r name version pyver abi plat < <("$PY" "$TOOL" wheel-spec "$file")
    dl=$(mktemp -d "$CACHE/pypi/.download.XXXXXX")
    local args=(--no-deps --only-binary=:all: --dest "$dl")
    # An abi3 wheel tagged cp39 is for CPython >= 3.9; asking pip for 3.9 itself would mean 3.9.0,
    # which some projects exclude in Requires-Python. Ask for 3.12, the oldest AL2023 Python.
    if [ "$abi" = abi3 ]; then pyver=3.12; fi
    if [ "$plat" != any ]; then
        args+=(--platform "$plat" --python-version "$pyver" --implementation cp --abi "$abi")
    fi
    echo "downloading $file" >&2
    env -u PIP_FIND_LINKS -u PIP_NO_INDEX "$PY" -m pip download -q "${args[@]}" "$name==$version" >&2
    [ -f "$dl/$file" ] || die "pip download $name==$version gave $(ls "$dl"), not $file"
    [ "$("$PY" "$TOOL" sha256 "$dl/$file")" = "$sha" ] || die "$file: sha256 differs from the pin"
    mv "$dl/$file" "$CACHE/pypi/$file"
    rm -rf "$dl"
}

# pip_target DIR PYVER WHEEL...: pip install --target DIR of exactly these wheels, for PYVER and
# the wheels' own platforms, from the cache only; then checks what pip installed.
pip_target() {
    local dir=$1 pyver=$2 links w name version pyv abi plat
    shift 2
    links=$(mktemp -d "$STAGE/links.XXXXXX")
    local args=(--isolated --root-user-action=ignore --no-index --find-links "$links" --no-deps --only-binary=:all: --no-compile
        --python-version "$pyver" --implementation cp --target "$dir")
    local reqs=()
    for w in "$@"; do
        fetch_wheel "$w"
        ln -s "$CACHE/pypi/$w" "$links/$w"
        read -r name version pyv abi plat < <("$PY" "$TOOL" wheel-spec "$w")
        [ "$plat" = any ] || args+=(--platform "$plat")
        reqs+=("$name==$version")
    done
    "$PY" -m pip install -q "${args[@]}" "${reqs[@]}" >&2
    "$PY" "$TOOL" check-dists "$dir" "$@"
    rm -rf "$dir/bin"
}

# py_function ARTIFACT PYVER WHEEL...: a function zip (files at the root, as in /var/task)
py_function() {
    local artifact=$1 pyver=$2
    shift 2
    echo "building $artifact" >&2
    local dir="$STAGE/${artifact%.zip}"
    pip_target "$dir" "$pyver" "$@"
    "$PY" "$TOOL" zip "$dir" "$OUT/$artifact"
    rm -rf "$dir"
}

# py_layer ARTIFACT PYVER WHEEL...: a layer zip (files under python/, as in /opt/python)
py_layer() {
    local artifact=$1 pyver=$2
    shift 2
    echo "building $artifact" >&2
    local dir="$STAGE/${artifact%.zip}"
    pip_target "$dir/python" "$pyver" "$@"
    "$PY" "$TOOL" zip "$dir" "$OUT/$artifact"
    rm -rf "$dir"
}

# ---------------------------------------------------------------------------------------------------
# npm: NAME@VERSION of every package npm must put in node_modules (transitive ones resolved as of
# NPM_BEFORE; a new release of a dependency cannot change them)
# ---------------------------------------------------------------------------------------------------

# npm_function ARTIFACT MODULE "NPM FLAGS" PKG@VERSION -- EXPECTED...
npm_function() {
    local artifact=$1 module=$2 flags=$3 spec=$4
    shift 5
    echo "building $artifact" >&2
    local dir="$STAGE/${artifact%.zip}"
    mkdir -p "$dir"
    printf '{\n  "name": "function",\n  "version": "1.0.0",\n  "private": true\n}\n' >"$dir/package.json"
    printf "// Lambda handler: loading the module loads its native addon.\nconst mod = require('%s');\n\nexports.handler = async () => typeof mod;\n" \
        "$module" >"$dir/index.js"
    # shellcheck disable=SC2086 # flags is a list of words
    (cd "$dir" && npm install --cache "$CACHE/npm" --prefer-offline --before="$NPM_BEFORE" --no-audit --no-fund \
        --ignore-scripts --save-exact --loglevel=error $flags "$spec" >&2)
    "$PY" "$TOOL" check-npm "$dir" "$@"
    rm -rf "$dir/package-lock.json" "$dir/node_modules/.package-lock.json" "$dir/node_modules/.bin"
    "$PY" "$TOOL" zip "$dir" "$OUT/$artifact"
    rm -rf "$dir"
}

# ---------------------------------------------------------------------------------------------------
# Artifacts (cases.json says what a correct checker reports for each)
# ---------------------------------------------------------------------------------------------------
rm -f "$OUT"/*.zip "$OUT/SHA256SUMS"

## Python, x86_64
py_function py312-pillow-11.0.0-manylinux_2_28-x86_64.zip 3.12 \
    pillow-11.0.0-cp312-cp312-manylinux_2_28_x86_64.whl
py_function py310-pillow-11.0.0-manylinux_2_28-x86_64.zip 3.10 \
    pillow-11.0.0-cp310-cp310-manylinux_2_28_x86_64.whl
py_function py310-pillow-11.0.0-manylinux2014-x86_64.zip 3.10 \
    pillow-11.0.0-cp310-cp310-manylinux_2_17_x86_64.manylinux2014_x86_64.whl
py_layer layer-py312-pillow-11.0.0-manylinux_2_28-x86_64.zip 3.12 \
    pillow-11.0.0-cp312-cp312-manylinux_2_28_x86_64.whl
py_function py312-psycopg2-binary-2.9.10-x86_64.zip 3.12 \
    psycopg2_binary-2.9.10-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl
py_function py311-psycopg2-binary-2.9.10-x86_64.zip 3.11 \
    psycopg2_binary-2.9.10-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl
py_function py312-numpy-2.2.6-x86_64.zip 3.12 \
    numpy-2.2.6-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl
py_function py312-shapely-2.0.7-x86_64.zip 3.12 \
    shapely-2.0.7-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl \
    numpy-2.2.6-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl
py_function py312-cryptography-44.0.2-manylinux_2_28-x86_64.zip 3.12 \
    cryptography-44.0.2-cp39-abi3-manylinux_2_28_x86_64.whl \
    cffi-1.17.1-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl \
    pycparser-2.22-py3-none-any.whl
py_function py311-cryptography-44.0.2-manylinux_2_28-x86_64.zip 3.11 \
    cryptography-44.0.2-cp39-abi3-manylinux_2_28_x86_64.whl \
    cffi-1.17.1-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl \
    pycparser-2.22-py3-none-any.whl
py_function py312-lxml-5.3.1-manylinux_2_28-x86_64.zip 3.12 \
    lxml-5.3.1-cp312-cp312-manylinux_2_28_x86_64.whl
py_function py312-grpcio-1.70.0-x86_64.zip 3.12 \
    grpcio-1.70.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl
py_function py312-opencv-python-headless-4.11.0.86-x86_64.zip 3.12 \
    opencv_python_headless-4.11.0.86-cp37-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64.whl \
    numpy-2.2.6-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl
py_function py312-opencv-python-4.11.0.86-x86_64.zip 3.12 \
    opencv_python-4.11.0.86-cp37-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64.whl \
    numpy-2.2.6-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl
py_function py311-pyodbc-5.2.0-x86_64.zip 3.11 \
    pyodbc-5.2.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl
py_function py312-rasterio-1.4.3-x86_64.zip 3.12 \
    rasterio-1.4.3-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl \
    numpy-2.2.6-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl

## Python, aarch64
py_function py312-pillow-13.0.0-aarch64.zip 3.12 \
    pillow-13.0.0-cp312-cp312-manylinux_2_27_aarch64.manylinux_2_28_aarch64.whl
py_function py312-psycopg2-binary-2.9.13-aarch64.zip 3.12 \
    psycopg2_binary-2.9.13-cp312-cp312-manylinux_2_27_aarch64.manylinux_2_28_aarch64.whl

## Python: a macOS install with the Linux wheel of the same version unpacked over it.
# `pip install --target DIR --upgrade` would replace the whole markupsafe/ directory (pip removes a
# target's existing package directory before moving the new one in), so the stale file comes from
# unpacking the manylinux wheel over the Mac's install, as `unzip -o` does.
artifact=py312-markupsafe-3.0.2-macos-then-linux-x86_64.zip
echo "building $artifact" >&2
dir="$STAGE/${artifact%.zip}"
pip_target "$dir" 3.12 MarkupSafe-3.0.2-cp312-cp312-macosx_11_0_arm64.whl
linux=MarkupSafe-3.0.2-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl
fetch_wheel "$linux"
"$PY" "$TOOL" unpack-wheel "$CACHE/pypi/$linux" "$dir"
"$PY" "$TOOL" check-dists "$dir" "$linux"   # the wheel's WHEEL/METADATA/RECORD replaced the Mac's
[ -f "$dir/markupsafe/_speedups.cpython-312-darwin.so" ] || die "$artifact: the darwin extension is gone"
[ -f "$dir/markupsafe/_speedups.cpython-312-x86_64-linux-gnu.so" ] || die "$artifact: no linux extension"
"$PY" "$TOOL" zip "$dir" "$OUT/$artifact"
rm -rf "$dir"

## Node.js
npm_function node-swc-core-1.16.22-darwin-arm64.zip @swc/core "--os=darwin --cpu=arm64" @swc/core@1.16.22 -- \
    @swc/core@1.16.22 @swc/core-darwin-arm64@1.16.22 @swc/counter@0.1.3 @swc/types@0.1.28
npm_function node-lightningcss-1.33.0-linux-x64-musl.zip lightningcss "--os=linux --cpu=x64 --libc=musl" lightningcss@1.33.0 -- \
    lightningcss@1.33.0 lightningcss-linux-x64-musl@1.33.0 detect-libc@2.1.2
npm_function node-sharp-0.33.5-linux-x64.zip sharp "--os=linux --cpu=x64 --libc=glibc" sharp@0.33.5 -- \
    sharp@0.33.5 @img/sharp-linux-x64@0.33.5 @img/sharp-libvips-linux-x64@1.0.4 \
    color@4.2.3 color-convert@2.0.1 color-name@1.1.4 color-string@1.9.1 detect-libc@2.1.2 \
    is-arrayish@0.3.4 semver@7.8.6 simple-swizzle@0.2.4
npm_function node-sharp-0.33.5-linux-arm64.zip sharp "--os=linux --cpu=arm64 --libc=glibc" sharp@0.33.5 -- \
    sharp@0.33.5 @img/sharp-linux-arm64@0.33.5 @img/sharp-libvips-linux-arm64@1.0.4 \
    color@4.2.3 color-convert@2.0.1 color-name@1.1.4 color-string@1.9.1 detect-libc@2.1.2 \
    is-arrayish@0.3.4 semver@7.8.6 simple-swizzle@0.2.4
npm_function node-argon2-2.2.1-linux-x64-gnu.zip @node-rs/argon2 "--os=linux --cpu=x64 --libc=glibc" @node-rs/argon2@2.2.1 -- \
    @node-rs/argon2@2.2.1 @node-rs/argon2-linux-x64-gnu@2.2.1
npm_function node-bufferutil-4.0.9.zip bufferutil "--os=linux --cpu=x64 --libc=glibc" bufferutil@4.0.9 -- \
    bufferutil@4.0.9 node-gyp-build@4.8.4
npm_function node-better-sqlite3-13.2.0-darwin-arm64.zip better-sqlite3 "--os=darwin --cpu=arm64" better-sqlite3@13.2.0 -- \
    better-sqlite3@13.2.0 node-addon-api@8.9.2
npm_function node-lmdb-3.2.0-linux-x64.zip lmdb "--os=linux --cpu=x64 --libc=glibc" lmdb@3.2.0 -- \
    lmdb@3.2.0 @lmdb/lmdb-linux-x64@3.2.0 @msgpackr-extract/msgpackr-extract-linux-x64@3.0.7 detect-libc@2.1.2 \
    msgpackr-extract@3.0.7 msgpackr@1.12.1 node-addon-api@6.1.0 node-gyp-build-optional-packages@5.2.2 \
    ordered-binary@1.6.3 weak-lru-cache@1.2.2
npm_function node-rollup-4.28.1-darwin-arm64.zip rollup "--os=darwin --cpu=arm64" rollup@4.28.1 -- \
    rollup@4.28.1 @rollup/rollup-darwin-arm64@4.28.1 @types/estree@1.0.6 fsevents@2.3.3

(cd "$OUT" && for f in *.zip; do printf '%s  %s\n' "$("$PY" "$TOOL" sha256 "$f")" "$f"; done) >"$OUT/SHA256SUMS"
echo "wrote $(ls "$OUT"/*.zip | wc -l) packages to $OUT ($(du -sb "$OUT" | cut -f1) bytes)" >&2
