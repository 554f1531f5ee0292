#!/usr/bin/env bash
# Make sure a Docker daemon answers on this machine, for elfcheck's Docker-based
# tests and for `elfcheck fix` during development.
#
#   scripts/docker/start-dockerd.sh          # install if needed, start if needed, wait
#   scripts/docker/start-dockerd.sh status   # exit 0 if the daemon answers, 1 if not
#   scripts/docker/start-dockerd.sh stop     # stop a dockerd started by this script
#
# Idempotent: if `docker info` already answers, it does nothing.
#
# Environment:
#   ELFCHECK_DOCKERD_LOG      log file of the daemon   (default /tmp/elfcheck-dockerd.log)
#   ELFCHECK_DOCKERD_TIMEOUT  seconds to wait for it   (default 60)
#   ELFCHECK_DOCKERD_OPTS     extra dockerd options, appended verbatim (word-split)
#   ELFCHECK_DOCKERD_NO_BRIDGE=1  start without iptables/bridge (containers then
#                             need --network host); chosen automatically when the
#                             kernel has no usable iptables nat table.
set -euo pipefail

LOG="${ELFCHECK_DOCKERD_LOG:-/tmp/elfcheck-dockerd.log}"
TIMEOUT="${ELFCHECK_DOCKERD_TIMEOUT:-60}"
PIDFILE=/var/run/docker.pid
SOCK=/var/run/docker.sock

msg() { printf 'start-dockerd: %s\n' "$*" >&2; }
die() { printf 'start-dockerd: ERROR: %s\n' "$*" >&2; exit 1; }

# Run as root directly, or through passwordless sudo.
SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO=(sudo -n)
    fi
fi
as_root() {
    if [ "$(id -u)" -eq 0 ] || [ "${#SUDO[@]}" -gt 0 ]; then
        "${SUDO[@]}" "$@"
    else
        die "need root (or passwordless sudo) to run: $*"
    fi
}

docker_answers() {
    command -v docker >/dev/null 2>&1 || return 1
    timeout 15 docker info >/dev/null 2>&1
}

alive() {
    # true if pid $1 exists and is not a zombie
    local state
    state="$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null || true)"
    [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

dockerd_pid() {
    # pid of a live dockerd, from its pid file or, failing that, the process table
    local pid=""
    if [ -r "$PIDFILE" ]; then
        pid="$(cat "$PIDFILE" 2>/dev/null || true)"
    elif [ -e "$PIDFILE" ]; then
        pid="$(as_root cat "$PIDFILE" 2>/dev/null || true)"
    fi
    if [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dockerd ] && alive "$pid"; then
        echo "$pid"
        return 0
    fi
    for pid in $(pgrep -x dockerd 2>/dev/null || true); do
        if alive "$pid"; then
            echo "$pid"
            return 0
        fi
    done
    return 1
}

install_docker() {
    local need=()
    command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
    command -v docker >/dev/null 2>&1 || need+=(docker.io)
    command -v iptables >/dev/null 2>&1 || need+=(iptables)
    [ "${#need[@]}" -eq 0 ] && return 0
    command -v apt-get >/dev/null 2>&1 || die "dockerd is not installed and apt-get is not available; install Docker by hand"
    msg "installing ${need[*]} with apt-get ..."
    as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 update -qq >/dev/null \
        || die "apt-get update failed"
    # policy-rc.d may forbid starting services; that is fine, we start dockerd ourselves
    as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends \
        "${need[@]}" >/tmp/elfcheck-apt-docker.log 2>&1 \
        || { tail -n 20 /tmp/elfcheck-apt-docker.log >&2; die "apt-get install ${need[*]} failed (log: /tmp/elfcheck-apt-docker.log)"; }
    command -v dockerd >/dev/null 2>&1 || die "dockerd still missing after installing docker.io"
}

default_mtu() {
    # MTU of the interface holding the default route (containers on the default
    # bridge get 1500 otherwise, which can stall TLS on links with a smaller MTU)
    local dev
    dev="$(ip -o route show default 2>/dev/null | awk '{for (i=1;i<NF;i++) if ($i=="dev") {print $(i+1); exit}}')"
    [ -n "$dev" ] && [ -r "/sys/class/net/$dev/mtu" ] && cat "/sys/class/net/$dev/mtu"
}

storage_driver() {
    # overlay2 on a filesystem that supports it; vfs (slow, always works) otherwise,
    # e.g. when /var/lib/docker itself sits on overlayfs (Docker in Docker).
    local fstype
    fstype="$(stat -f -c %T /var/lib/docker 2>/dev/null || stat -f -c %T /var/lib 2>/dev/null || echo unknown)"
    if grep -qw overlay /proc/filesystems 2>/dev/null && [ "$fstype" != overlayfs ] && [ "$fstype" != tmpfs ]; then
        echo overlay2
    else
        echo vfs
    fi
}

dockerd_options() {
    local opts=(--host "unix://$SOCK" --pidfile "$PIDFILE" --storage-driver "$(storage_driver)")
    # No systemd as PID 1 here: let the daemon manage cgroups directly.
    if [ ! -d /run/systemd/system ]; then
        opts+=(--exec-opt native.cgroupdriver=cgroupfs)
    fi
    local no_bridge=""
    if [ "${ELFCHECK_DOCKERD_NO_BRIDGE:-0}" = 1 ]; then
        no_bridge="ELFCHECK_DOCKERD_NO_BRIDGE=1"
    elif ! as_root iptables -t nat -S >/dev/null 2>&1; then
        no_bridge="no usable iptables nat table"
    fi
    if [ -n "$no_bridge" ]; then
        msg "$no_bridge: starting without bridge networking (containers need --network host)"
        opts+=(--iptables=false --ip-masq=false --bridge=none)
    else
        local mtu
        mtu="$(default_mtu || true)"
        [ -n "$mtu" ] && opts+=(--mtu "$mtu")
    fi
    # shellcheck disable=SC2206
    [ -n "${ELFCHECK_DOCKERD_OPTS:-}" ] && opts+=(${ELFCHECK_DOCKERD_OPTS})
    printf '%s\n' "${opts[@]}"
}

remove_stale_pidfile() {
    local f="$1" pid
    [ -e "$f" ] || return 0
    pid="$(as_root cat "$f" 2>/dev/null || true)"
    if [ -z "$pid" ] || ! alive "$pid"; then
        msg "removing stale pid file $f${pid:+ (pid $pid is gone)}"
        as_root rm -f "$f"
    fi
}

wait_for_docker() {
    local pid="$1" waited=0
    while [ "$waited" -lt "$TIMEOUT" ]; do
        if docker_answers; then
            return 0
        fi
        if [ -n "$pid" ] && ! alive "$pid"; then
            return 2
        fi
        sleep 1
        waited=$((waited + 1))
    done
    return 1
}

start() {
    if docker_answers; then
        msg "Docker daemon already answers ($(docker version --format '{{.Server.Version}}' 2>/dev/null || echo '?'))"
        return 0
    fi
    install_docker

    local pid rc
    pid="$(dockerd_pid || true)"
    if [ -n "$pid" ]; then
        msg "dockerd (pid $pid) is running but does not answer yet; waiting up to ${TIMEOUT}s ..."
        rc=0
        wait_for_docker "$pid" || rc=$?
        if [ "$rc" -eq 0 ]; then
            msg "Docker daemon is up"
            return 0
        fi
        if [ "$rc" -ne 2 ]; then
            die "dockerd (pid $pid) does not answer on $SOCK; stop it (scripts/docker/start-dockerd.sh stop) and retry"
        fi
        msg "dockerd (pid $pid) exited; starting a new one"
    fi

    # A dockerd killed with SIGKILL leaves its pid file behind, and its pid may
    # linger as a zombie that dockerd takes for a running daemon ("pid file
    # found, ensure docker is not running"). No live dockerd here: drop them.
    remove_stale_pidfile "$PIDFILE"
    remove_stale_pidfile /var/run/docker/containerd/containerd.pid

    local opts=()
    mapfile -t opts < <(dockerd_options)
    as_root mkdir -p "$(dirname "$LOG")"
    {
        echo
        echo "=== $(date -u +%Y-%m-%dT%H:%M:%SZ) dockerd ${opts[*]}"
    } | as_root tee -a "$LOG" >/dev/null
    msg "starting: dockerd ${opts[*]}  (log: $LOG)"
    # setsid -f: dockerd runs in its own session, detached from this script and
    # its terminal, so it outlives both
    as_root setsid -f nohup dockerd "${opts[@]}" </dev/null >>"$LOG" 2>&1 \
        || die "could not launch dockerd"

    # find dockerd itself for liveness checks (it writes its pid file early)
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        pid="$(dockerd_pid || true)"
        [ -n "$pid" ] && break
        sleep 0.2
    done

    rc=0
    if [ -z "$pid" ]; then
        # no live dockerd 2 s after launch: it died at once (bad option, ...)
        docker_answers || rc=2
    else
        wait_for_docker "$pid" || rc=$?
    fi
    if [ "$rc" -eq 0 ]; then
        msg "Docker daemon is up ($(docker version --format '{{.Server.Version}}' 2>/dev/null || echo '?'), pid $(dockerd_pid || echo '?'))"
        return 0
    fi
    echo "----- last lines of $LOG (this start) -----" >&2
    # only what this start logged: from the last "=== " header on
    # shellcheck disable=SC2016
    as_root awk '/^=== /{n=0} {l[n++]=$0} END{s=(n>30)?n-30:0; for(i=s;i<n;i++) print l[i]}' "$LOG" >&2 || true
    echo "------------------------------" >&2
    if [ "$rc" -eq 2 ]; then
        die "dockerd exited during startup; see $LOG"
    fi
    die "dockerd did not answer within ${TIMEOUT}s; see $LOG"
}

stop() {
    local pid
    pid="$(dockerd_pid || true)"
    if [ -z "$pid" ]; then
        msg "dockerd is not running"
        return 0
    fi
    msg "stopping dockerd (pid $pid) ..."
    as_root kill -TERM "$pid"
    for _ in $(seq 1 30); do
        if ! alive "$pid"; then
            msg "dockerd stopped"
            return 0
        fi
        sleep 1
    done
    die "dockerd (pid $pid) did not stop within 30s"
}

case "${1:-start}" in
    start) start ;;
    stop) stop ;;
    status)
        if docker_answers; then
            msg "Docker daemon answers ($(docker version --format '{{.Server.Version}}' 2>/dev/null || echo '?'))"
        else
            msg "Docker daemon does not answer"
            exit 1
        fi
        ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//' ;;
    *) die "unknown command '$1' (expected start, stop or status)" ;;
esac
