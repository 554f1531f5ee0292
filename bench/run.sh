#!/usr/bin/env bash
# elfcheck benchmark: elfcheck against the physical floor (zipfloor) on a real
# data/ML Lambda package, plus synthetic zips. See bench/README.md.
#
#   usage: bench/run.sh
#
# Env: ROUNDS (7), ELFCHECK_SHARED (<repo>/../shared), BENCH_OUT (bench/out),
#      BENCH_CORPUS ($BENCH_OUT/corpus).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(git -C "$HERE" rev-parse --show-toplevel)
SHARED=${ELFCHECK_SHARED:-$ROOT/../shared}
OUT=${BENCH_OUT:-$ROOT/bench/out}
CORPUS=${BENCH_CORPUS:-$OUT/corpus}
ROUNDS=${ROUNDS:-7}
PY=${PYTHON:-python3}

log() { printf '== %s\n' "$*" >&2; }
T0=$SECONDS

if [ ! -f "$SHARED/bench/make-bench-corpus.sh" ] || [ ! -d "$SHARED/bench/floor" ]; then
  echo "bench: no $SHARED/bench/{make-bench-corpus.sh,floor}; set ELFCHECK_SHARED" >&2
  exit 2
fi

# --- tools -------------------------------------------------------------------
missing=()
command -v unzip >/dev/null || missing+=(unzip)
command -v zip >/dev/null || missing+=(zip)
[ -x /usr/bin/time ] || missing+=(time)
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
command -v "$PY" >/dev/null || { echo "bench: $PY not found" >&2; exit 2; }

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
mkdir -p "$CORPUS"
CORPUS=$(cd "$CORPUS" && pwd)

# --- corpus (once; corpus-stats.txt is written last, so it marks completion) --
if [ ! -f "$CORPUS/corpus-stats.txt" ] || [ ! -f "$CORPUS/big.zip" ] || [ ! -f "$CORPUS/medium.zip" ]; then
  log "building corpus in $CORPUS (downloads wheels from PyPI)"
  bash "$SHARED/bench/make-bench-corpus.sh" "$CORPUS" >&2  # stdout is the report
else
  log "corpus: cached in $CORPUS"
fi

# The directory form: big.zip unpacked (once). The marker sits beside the
# tree, not in it, so the tree is exactly what the zip holds.
if [ ! -f "$CORPUS/big.unpacked" ] || [ "$CORPUS/big.zip" -nt "$CORPUS/big.unpacked" ]; then
  log "unpacking big.zip into $CORPUS/big"
  rm -rf "$CORPUS/big" "$CORPUS/big.tmp" "$CORPUS/big.unpacked"
  unzip -q "$CORPUS/big.zip" -d "$CORPUS/big.tmp"
  mv "$CORPUS/big.tmp" "$CORPUS/big"
  : > "$CORPUS/big.unpacked"
fi

# --- synthetic zips -----------------------------------------------------------
if [ ! -f "$OUT/many-small.zip" ] || [ ! -f "$OUT/empty.zip" ] \
   || [ "$HERE/make-synthetic.py" -nt "$OUT/many-small.zip" ]; then
  log "writing many-small.zip and empty.zip"
  "$PY" "$HERE/make-synthetic.py" "$OUT"
fi

# --- the benchmark application (20 functions sharing 3 layers, from the wheels) --
if [ ! -f "$OUT/app-stats.txt" ] || [ "$HERE/make-app.py" -nt "$OUT/app-stats.txt" ] \
   || [ "$CORPUS/corpus-stats.txt" -nt "$OUT/app-stats.txt" ]; then
  log "writing the benchmark application in $OUT/app"
  rm -rf "$OUT/app"
  "$PY" "$HERE/make-app.py" "$CORPUS/wheels" "$OUT" > "$OUT/app-stats.txt.tmp"
  mv "$OUT/app-stats.txt.tmp" "$OUT/app-stats.txt"
fi

# --- builds -------------------------------------------------------------------
log "building zipfloor in $OUT/floor-src"
mkdir -p "$OUT/floor-src"
rm -rf "$OUT/floor-src/src" "$OUT/floor-src/Cargo.toml" "$OUT/floor-src/Cargo.lock"
cp -R "$SHARED/bench/floor/src" "$SHARED/bench/floor/Cargo.toml" "$SHARED/bench/floor/Cargo.lock" \
   "$OUT/floor-src/"
chmod -R u+w "$OUT/floor-src/src" "$OUT/floor-src/Cargo.toml" "$OUT/floor-src/Cargo.lock"
(cd "$OUT/floor-src" && CARGO_TARGET_DIR="$OUT/floor-src/target" cargo build --release --quiet)
ZIPFLOOR=$OUT/floor-src/target/release/zipfloor

log "building elfcheck (cargo build --release)"
(cd "$ROOT" && cargo build --release --quiet)
ELFCHECK=$(cd "$ROOT" && cargo metadata --format-version 1 --no-deps \
  | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release/elfcheck
[ -x "$ELFCHECK" ] || { echo "bench: no $ELFCHECK after the build" >&2; exit 2; }

COMMIT=$(git -C "$ROOT" rev-parse --short HEAD)
if [ -n "$(git -C "$ROOT" status --porcelain --untracked-files=no -- src Cargo.toml Cargo.lock)" ]; then
  COMMIT="$COMMIT (plus uncommitted changes in src/ or Cargo.*)"
fi

# --- measure ------------------------------------------------------------------
log "timing: $ROUNDS interleaved rounds"
"$PY" "$HERE/timing.py" \
  --elfcheck "$ELFCHECK" --zipfloor "$ZIPFLOOR" \
  --corpus "$CORPUS" --synthetic "$OUT" \
  --corpus-stats "$CORPUS/corpus-stats.txt" \
  --app "$OUT/app" --app-stats "$OUT/app-stats.txt" \
  --rounds "$ROUNDS" --nproc "$(nproc)" --commit "$COMMIT" \
  --out "$OUT/results.md"

log "done in $((SECONDS - T0)) s; report in $OUT/results.md"
