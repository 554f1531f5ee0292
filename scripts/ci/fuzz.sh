#!/usr/bin/env bash
# Fuzzes object classification and zip reading for a bounded time each, under a memory limit and
# a per-input timeout; fails on any crash, timeout or out-of-memory. Needs a nightly toolchain and
# cargo-fuzz (installed from crates.io when missing).
#
#   FUZZ_SECONDS   seconds per target (default 60)
#   FUZZ_TARGETS   targets to run (default: classify zip_read)
#
# Seeds are made from testdata/bin: each fixture for `classify`, and zips of them for `zip_read`.
# A crasher is left in fuzz/artifacts/<target>/; turn it into a regression test (a small input
# committed under testdata/fuzz/ and a test that reads it).
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_EACH=${FUZZ_SECONDS:-60}
TARGETS=${FUZZ_TARGETS:-classify zip_read}

command -v cargo-fuzz >/dev/null 2>&1 || cargo install --locked cargo-fuzz

corpus=fuzz/corpus
mkdir -p "$corpus/classify" "$corpus/zip_read"
# classify: the first byte 0 means "as is" (see fuzz_targets/classify.rs).
for f in $(find testdata/bin -type f | sort); do
  name=$(echo "$f" | tr '/' '_')
  { printf '\0'; cat "$f"; } > "$corpus/classify/$name"
done
python3 - "$corpus/zip_read" <<'PY'
import os, sys, zipfile, io
out = sys.argv[1]
files = sorted(os.path.join(d, f) for d, _, fs in os.walk("testdata/bin") for f in fs)
small = [f for f in files if os.path.getsize(f) < 64 << 10]
def write(name, members, method=zipfile.ZIP_DEFLATED):
    with zipfile.ZipFile(os.path.join(out, name), "w", method) as z:
        for arc, data in members:
            z.writestr(arc, data)
for f in small:
    write(os.path.basename(f) + ".zip", [("lib/" + os.path.basename(f), open(f, "rb").read())])
write("all-stored.zip", [(f.replace("testdata/bin/", ""), open(f, "rb").read()) for f in small[:6]], zipfile.ZIP_STORED)
wheel = io.BytesIO()
with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as w:
    w.writestr("pkg/_ext.cpython-311-x86_64-linux-gnu.so", open("testdata/bin/x86_64/pyext.so", "rb").read())
    w.writestr("pkg-1.0.dist-info/RECORD", "pkg/_ext.cpython-311-x86_64-linux-gnu.so,,\n")
write("nested-wheel.zip", [("vendor/pkg-1.0-py3-none-any.whl", wheel.getvalue()), ("bootstrap", "#!/bin/sh\n")])
PY

failed=0
for t in $TARGETS; do
  log="fuzz/$t.log"
  echo "==> fuzz $t for ${SECONDS_EACH}s"
  # No AddressSanitizer: its quarantine alone keeps up to 256 MB, which would make the memory
  # limit meaningless. The code is safe Rust apart from a few system calls; debug assertions stay.
  if cargo +nightly fuzz run --sanitizer none --debug-assertions "$t" "$corpus/$t" -- \
      -max_total_time="$SECONDS_EACH" -rss_limit_mb=256 -timeout=10 -max_len=65536 \
      -print_final_stats=1 >"$log" 2>&1; then
    echo "$t: $(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}') executions, no crash"
  else
    failed=1
    echo "$t: FAILED"; grep -E 'ERROR|SUMMARY|Test unit written|panicked' "$log" | head -20
  fi
done
exit $failed
