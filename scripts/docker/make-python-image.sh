#!/usr/bin/env bash
# Build a local stand-in for the AWS SAM Python build image
# (public.ecr.aws/sam/build-python3.11), for elfcheck's Docker-based tests and
# for trying `elfcheck fix` on a machine that cannot pull images.
#
#   scripts/docker/make-python-image.sh [TAG]      (default TAG: elfcheck-test/python-build:3.11)
#   scripts/docker/make-python-image.sh --force [TAG]   rebuild the root file system
#
# The image is a minimal Debian bookworm root (debootstrap --variant=minbase) with
# python3 (3.11, the Lambda python3.11 runtime's minor version), pip, venv and
# ca-certificates, imported with `docker import`. Nothing is pulled from a
# container registry; packages come from the Debian mirror that apt uses here.
#
# Reruns are fast:
#   - the image exists already            -> nothing to do
#   - the root file system tarball is cached -> docker import only
#   - otherwise debootstrap runs, with its .deb files cached as well
#
# Environment:
#   ELFCHECK_DOCKER_CACHE     cache dir (default ${XDG_CACHE_HOME:-$HOME/.cache}/elfcheck-docker)
#   ELFCHECK_IMAGE_EXTRA_PACKAGES  more Debian packages, space separated (e.g. "gcc python3-dev")
#   DEBIAN_MIRROR             Debian mirror URL (default: the one in this host's apt sources)
#   ELFCHECK_IMAGE_REBUILD=1  same as --force
#   ELFCHECK_BUILD_TMP        where to assemble the root (default /dev/shm if it has
#                             1 GiB free, else the cache dir)
#
# Needs root (debootstrap and chroot) and a running Docker daemon; it runs
# start-dockerd.sh (next to this script) when the daemon does not answer.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SUITE=bookworm
PYVER=3.11
# Bump when the recipe below changes, so cached root file systems are not reused.
RECIPE_VERSION=1

FORCE="${ELFCHECK_IMAGE_REBUILD:-0}"
TAG=""
for arg in "$@"; do
    case "$arg" in
        -f|--force) FORCE=1 ;;
        -h|--help) sed -n '2,28p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "make-python-image: unknown option $arg" >&2; exit 2 ;;
        *) [ -z "$TAG" ] || { echo "make-python-image: only one TAG allowed" >&2; exit 2; }; TAG="$arg" ;;
    esac
done
TAG="${TAG:-elfcheck-test/python-build:$PYVER}"

CACHE="${ELFCHECK_DOCKER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/elfcheck-docker}"
PACKAGES="python3 python3-pip python3-venv python-is-python3 ca-certificates ${ELFCHECK_IMAGE_EXTRA_PACKAGES:-}"
PACKAGES="$(echo "$PACKAGES" | tr ' ' '\n' | sed '/^$/d' | sort -u | tr '\n' ' ' | sed 's/ $//')"

msg() { printf 'make-python-image: %s\n' "$*" >&2; }
die() { printf 'make-python-image: ERROR: %s\n' "$*" >&2; exit 1; }

START=$(date +%s)
elapsed() { echo "$(( $(date +%s) - START ))s"; }

# --- Docker daemon --------------------------------------------------------
if ! timeout 15 docker info >/dev/null 2>&1; then
    msg "Docker daemon does not answer; running start-dockerd.sh"
    "$HERE/start-dockerd.sh" || die "no Docker daemon"
fi

if [ "$FORCE" != 1 ] && docker image inspect "$TAG" >/dev/null 2>&1; then
    msg "image $TAG exists already; nothing to do (use --force to rebuild)"
    exit 0
fi

# --- cache ------------------------------------------------------------------
ARCH="$(dpkg --print-architecture 2>/dev/null || echo amd64)"
KEY="$(printf '%s\n' "$RECIPE_VERSION" "$SUITE" "$ARCH" "$PACKAGES" | sha256sum | cut -c1-12)"
ROOTFS_TAR="$CACHE/rootfs-$SUITE-$ARCH-r$RECIPE_VERSION-$KEY.tar"
DEB_CACHE="$CACHE/debs-$SUITE-$ARCH"
mkdir -p "$CACHE" "$DEB_CACHE"

# one build at a time per cache dir
exec 9>"$CACHE/.lock"
flock 9

# Where the root file system is assembled: a tmpfs when there is one with room,
# since dpkg syncs every file it writes and that dominates on a real disk.
BUILD_BASE="${ELFCHECK_BUILD_TMP:-}"
if [ -z "$BUILD_BASE" ]; then
    BUILD_BASE="$CACHE"
    if [ -d /dev/shm ] && [ -w /dev/shm ] && [ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ] \
        && [ "$(df -Pk /dev/shm | awk 'NR==2 {print $4}')" -gt $((1024 * 1024)) ]; then
        BUILD_BASE=/dev/shm
    fi
fi
# build dirs are named after the cache dir, so leftovers of this cache dir's
# killed builds can be told from another cache dir's running build
BUILD_PREFIX="elfcheck-rootfs-$(printf '%s' "$CACHE" | sha256sum | cut -c1-8)"

build_rootfs() {
    [ "$(id -u)" -eq 0 ] || die "building the root file system needs root (debootstrap, chroot); run as root or with sudo"
    if ! command -v debootstrap >/dev/null 2>&1; then
        msg "installing debootstrap with apt-get ..."
        DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 update -qq >/dev/null || die "apt-get update failed"
        DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends debootstrap >/dev/null \
            || die "apt-get install debootstrap failed"
    fi

    local mirror="${DEBIAN_MIRROR:-}"
    if [ -z "$mirror" ]; then
        # the host's own Debian mirror (deb822 or one-line sources)
        mirror="$(awk '/^URIs:/ && $2 ~ /\/debian\/?$/ {print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)"
        [ -n "$mirror" ] || mirror="$(awk '$1=="deb" && $2 !~ /^\[/ && $3 ~ /^'"$SUITE"'$/ {print $2; exit}' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true)"
    fi
    local keyring=()
    [ -r /usr/share/keyrings/debian-archive-keyring.gpg ] && keyring=(--keyring=/usr/share/keyrings/debian-archive-keyring.gpg)

    WORK="$(mktemp -d "$BUILD_BASE/$BUILD_PREFIX.XXXXXX")"
    local root="$WORK/root"
    trap cleanup EXIT
    trap 'exit 130' INT TERM HUP

    msg "debootstrap --variant=minbase $SUITE (${mirror:-debootstrap default mirror}) with: $PACKAGES"
    local inc
    inc="$(echo "$PACKAGES" | tr ' ' ',')"
    # shellcheck disable=SC2086
    if ! debootstrap --variant=minbase --arch="$ARCH" "${keyring[@]}" --cache-dir="$DEB_CACHE" \
            --include="$inc" "$SUITE" "$root" ${mirror:+"$mirror"} >"$WORK/debootstrap.log" 2>&1; then
        cat "$WORK/debootstrap.log" "$root/debootstrap/debootstrap.log" >"$CACHE/last-debootstrap.log" 2>/dev/null || true
        tail -n 30 "$CACHE/last-debootstrap.log" >&2
        die "debootstrap failed (full log: $CACHE/last-debootstrap.log)"
    fi
    unmount_under "$root"

    msg "trimming the root file system ($(elapsed))"
    # pip: allow installs outside a venv, as in the SAM image (PEP 668 marker).
    # `pip install --target` is not blocked by it anyway, only plain installs.
    rm -f "$root"/usr/lib/python3*/EXTERNALLY-MANAGED
    # the SAM build image's working directory
    mkdir -p "$root/var/task"
    # keep later apt installs inside the image small too
    mkdir -p "$root/etc/dpkg/dpkg.cfg.d"
    cat >"$root/etc/dpkg/dpkg.cfg.d/01-elfcheck-nodoc" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
EOF
    chroot "$root" apt-get clean
    rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin \
        "$root"/var/cache/debconf/*-old "$root"/var/lib/dpkg/*-old \
        "$root"/var/log/* "$root"/tmp/* "$root"/var/tmp/* \
        "$root"/usr/share/man/* "$root"/usr/share/info/* \
        "$root"/var/cache/ldconfig/aux-cache
    find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
    find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || true
    find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} + 2>/dev/null || true
    # docker provides these at run time; do not ship the build host's
    : >"$root/etc/resolv.conf"
    : >"$root/etc/hostname"
    : >"$root/etc/machine-id"
    chmod 1777 "$root/tmp" "$root/var/tmp"

    chroot "$root" python3 -c "import sys; assert sys.version_info[:2] == (${PYVER%%.*}, ${PYVER##*.}), sys.version" \
        || die "python3 in the new root is not $PYVER"

    msg "packing $(du -sh "$root" | cut -f1) into $ROOTFS_TAR ($(elapsed))"
    tar --numeric-owner --one-file-system -C "$root" -cf "$ROOTFS_TAR.partial" .
    mv -f "$ROOTFS_TAR.partial" "$ROOTFS_TAR"
    # cached root file systems of older recipes are of no further use (those of
    # other package sets are kept: switching between them stays fast)
    find "$CACHE" -maxdepth 1 -name "rootfs-$SUITE-$ARCH-*.tar" -not -name "rootfs-$SUITE-$ARCH-r$RECIPE_VERSION-*.tar" -delete
}

unmount_under() {
    # debootstrap mounts /proc and /sys in the target while it works; make sure
    # nothing is left mounted before files are removed or packed
    local dir="$1" m
    [ -d "$dir" ] || return 0
    while IFS= read -r m; do
        umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
    done < <(awk -v d="$dir" '$2 == d || index($2, d "/") == 1 {print $2}' /proc/self/mounts | sort -r)
}

WORK=""
cleanup() {
    if [ -n "$WORK" ] && [ -d "$WORK" ]; then
        unmount_under "$WORK"
        rm -rf --one-file-system "$WORK"
    fi
}

# leftovers of a build that was killed
for stale in "$BUILD_BASE/$BUILD_PREFIX".* "$CACHE/$BUILD_PREFIX".*; do
    [ -d "$stale" ] || continue
    msg "removing leftover $stale"
    unmount_under "$stale"
    rm -rf --one-file-system "$stale"
done

if [ "$FORCE" = 1 ] || [ ! -s "$ROOTFS_TAR" ]; then
    build_rootfs
else
    msg "using cached root file system $ROOTFS_TAR"
fi

# --- import -------------------------------------------------------------------
msg "docker import -> $TAG ($(elapsed))"
old_id="$(docker image inspect --format '{{.Id}}' "$TAG" 2>/dev/null || true)"
docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'ENV PIP_DISABLE_PIP_VERSION_CHECK=1' \
    --change 'ENV PIP_BREAK_SYSTEM_PACKAGES=1' \
    --change "LABEL org.opencontainers.image.title=elfcheck-python-build org.opencontainers.image.description=Debian-$SUITE-python$PYVER-stand-in-for-the-SAM-build-image elfcheck.rootfs-key=$KEY" \
    --change 'WORKDIR /var/task' \
    --change 'CMD ["/bin/bash"]' \
    --message "elfcheck python build image ($SUITE, python $PYVER)" \
    "$ROOTFS_TAR" "$TAG" >/dev/null

new_id="$(docker image inspect --format '{{.Id}}' "$TAG")"
if [ -n "$old_id" ] && [ "$old_id" != "$new_id" ]; then
    # the image this tag named before --force; kept if a container still uses it
    docker rmi "$old_id" >/dev/null 2>&1 || true
fi

docker run --rm --network none "$TAG" python3 -c "import sys, pip; print('python', sys.version.split()[0], '/ pip', pip.__version__)" >&2 \
    || die "the new image $TAG does not run python3"
size="$(docker image inspect --format '{{.Size}}' "$TAG")"
msg "image $TAG ready: $((size / 1000000)) MB ($(elapsed))"
