#!/usr/bin/env bash
# Builds the test applications under tests/apps/ with their real build tools:
#   sam         sam build (no container)          -> OUTDIR/sam/.aws-sam/build/
#   cdk         cdk synth (local bundling)         -> OUTDIR/cdk/cdk.out/
#   serverless  serverless package (v3, offline)   -> OUTDIR/serverless/.serverless/
#
# usage: tests/apps/build.sh OUTDIR [sam|cdk|serverless]...     (no app name: all three)
#
# The pinned tools are installed once into ${ELFCHECK_APPS_CACHE:-$HOME/.cache/elfcheck-apps}:
# a Python 3.11 venv with aws-sam-cli (tools/sam-requirements.txt), a plain Python 3.11 venv with
# pip (used by the CDK and Serverless builds to install requirements), and one npm tree per
# package-lock.json. Each app source is copied to OUTDIR/<app> (replacing an earlier copy) and
# built there. A failing tool stops the script with its own error and a non-zero exit. Last,
# verify.py checks the outputs against expected.json (ids, runtimes, architectures, layers, code
# folders and zips, native files).
#
# The expected results (expected.json) assume an x86_64 build machine: as for the users these apps
# imitate, pip resolves wheels for the machine it runs on wherever no platform is given.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${ELFCHECK_APPS_CACHE:-$HOME/.cache/elfcheck-apps}
SAM_VERSION=$(sed -n 's/^aws-sam-cli==//p' "$HERE/tools/sam-requirements.txt")

usage() { echo "usage: $0 OUTDIR [sam|cdk|serverless]..." >&2; exit 2; }
[ $# -ge 1 ] || usage
OUTDIR=$1
shift
APPS=("$@")
[ ${#APPS[@]} -gt 0 ] || APPS=(sam cdk serverless)
for app in "${APPS[@]}"; do
  case $app in sam | cdk | serverless) ;; *) usage ;; esac
done

now() { date +%s%N; }
T_ALL=$(now)
# step NAME COMMAND...: runs COMMAND, then prints how long it took.
step() {
  local name=$1 t0
  shift
  printf '==> %s\n' "$name" >&2
  t0=$(now)
  "$@"
  printf '==> %s: %s s\n' "$name" "$(elapsed "$t0")" >&2
}
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }'; }
die() { echo "build.sh: $*" >&2; exit 1; }

[ "$(uname -m)" = x86_64 ] ||
  die "expected.json describes a build on x86_64 (pip resolves for the build machine); this is $(uname -m)"

# --- machine prerequisites (Debian 12 package names) ---------------------------------------------
need_apt=()
command -v python3.11 >/dev/null 2>&1 || need_apt+=(python3.11 python3.11-venv)
python3.11 -c 'import ensurepip, venv' >/dev/null 2>&1 || need_apt+=(python3.11-venv)
[[ " ${APPS[*]} " != *" sam "* ]] || command -v make >/dev/null 2>&1 || need_apt+=(make)
if [[ " ${APPS[*]} " == *" cdk "* || " ${APPS[*]} " == *" serverless "* ]]; then
  command -v node >/dev/null 2>&1 || need_apt+=(nodejs)
  command -v npm >/dev/null 2>&1 || need_apt+=(npm)
fi
apt_install() { # PACKAGE...: quiet, but the whole log on failure
  local log
  log=$(mktemp)
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    --no-install-recommends "$@"; } >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    die "apt-get install $* failed"
  fi
  rm -f "$log"
}
if [ ${#need_apt[@]} -gt 0 ]; then
  mapfile -t need_apt < <(printf '%s\n' "${need_apt[@]}" | sort -u)
  step "apt-get install ${need_apt[*]}" apt_install "${need_apt[@]}"
fi

# The proxy's CA bundle, when the machine names one, for pip (including the pip that
# aws-lambda-builders runs) and for Node.
if [ -n "${SSL_CERT_FILE:-}" ]; then
  export PIP_CERT=${PIP_CERT:-$SSL_CERT_FILE}
  export NODE_EXTRA_CA_CERTS=${NODE_EXTRA_CA_CERTS:-$SSL_CERT_FILE}
fi
export PIP_DISABLE_PIP_VERSION_CHECK=1
# No telemetry, no update checks, no AWS credential or metadata lookups.
export SAM_CLI_TELEMETRY=0 CDK_DISABLE_VERSION_CHECK=1 SLS_TELEMETRY_DISABLED=1 \
  SLS_NOTIFICATIONS_MODE=off AWS_EC2_METADATA_DISABLED=true AWS_REGION=us-east-1 \
  AWS_DEFAULT_REGION=us-east-1
unset AWS_PROFILE AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN

mkdir -p "$CACHE" "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd)

# --- cached tools --------------------------------------------------------------------------------
# A venv is complete once its stamp file exists; an interrupted install is redone from scratch.
make_venv() { # DIR [pip install arguments...]
  local dir=$1
  shift
  rm -rf "$dir"
  python3.11 -m venv "$dir"
  if [ $# -gt 0 ]; then "$dir/bin/python" -m pip install --quiet "$@"; fi
  touch "$dir/.complete"
}

PY_VENV=$CACHE/python3.11
ensure_python() {
  [ -f "$PY_VENV/.complete" ] || step "python3.11 venv (pip)" make_venv "$PY_VENV"
}

SAM_VENV=$CACHE/sam-$SAM_VERSION
ensure_sam() {
  [ -f "$SAM_VENV/.complete" ] ||
    step "aws-sam-cli $SAM_VERSION into $SAM_VENV" make_venv "$SAM_VENV" -r "$HERE/tools/sam-requirements.txt"
}

# npm tree for an app, keyed by its package-lock.json; prints the node_modules path.
NPM_TREE=
ensure_npm() { # APP
  local app=$1 key dir
  key=$(sha256sum "$HERE/$app/package-lock.json" | cut -c1-16)
  dir=$CACHE/npm-$app-$key
  if [ ! -f "$dir/.complete" ]; then
    rm -rf "$dir"
    mkdir -p "$dir"
    cp "$HERE/$app/package.json" "$HERE/$app/package-lock.json" "$dir/"
    step "npm ci ($app) into $dir" npm ci --prefix "$dir" --ignore-scripts --no-audit --no-fund --loglevel=error
    touch "$dir/.complete"
  fi
  NPM_TREE=$dir/node_modules
}

# Copies an app's source into OUTDIR/APP (without node_modules) and links the cached npm tree.
stage() { # APP
  local app=$1
  rm -rf "${OUTDIR:?}/$app"
  mkdir -p "$OUTDIR/$app"
  (cd "$HERE/$app" && tar --exclude=./node_modules --exclude=./.aws-sam --exclude=./cdk.out \
    --exclude=./.serverless -cf - .) | (cd "$OUTDIR/$app" && tar -xf -)
  if [ -n "${NPM_TREE:-}" ]; then ln -s "$NPM_TREE" "$OUTDIR/$app/node_modules"; fi
}

# --- builds --------------------------------------------------------------------------------------
build_sam() {
  ensure_sam
  NPM_TREE=
  stage sam
  # sam finds python3.11 (python_pip workflow) and the Makefile finds python3 on PATH: the venv's.
  (cd "$OUTDIR/sam" && PATH="$SAM_VENV/bin:$PATH" step "sam build" sam build)
}

build_cdk() {
  ensure_python
  ensure_npm cdk
  stage cdk
  (cd "$OUTDIR/cdk" && ELFCHECK_PYTHON="$PY_VENV/bin/python" \
    step "cdk synth" ./node_modules/.bin/cdk synth --no-notices --no-lookups --quiet)
}

build_serverless() {
  ensure_python
  ensure_npm serverless
  stage serverless
  # serverless-python-requirements runs `python3.11 -m pip` (pythonBin defaults to the runtime).
  (cd "$OUTDIR/serverless" && PATH="$PY_VENV/bin:$PATH" \
    step "serverless package" ./node_modules/.bin/serverless package --region us-east-1)
}

for app in "${APPS[@]}"; do
  "build_$app"
done

# The outputs against expected.json (PyYAML for the SAM template comes with aws-sam-cli).
if [ -f "$SAM_VENV/.complete" ]; then VERIFY_PY=$SAM_VENV/bin/python; else VERIFY_PY=$PY_VENV/bin/python; fi
step "verify.py (layout against expected.json)" "$VERIFY_PY" "$HERE/verify.py" "$OUTDIR" "${APPS[@]}"
printf '==> all (%s): %s s\n' "${APPS[*]}" "$(elapsed "$T_ALL")" >&2
