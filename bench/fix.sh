#!/usr/bin/env bash
# elfcheck fix benchmark: `elfcheck fix --via pip` of a Python function built on macOS against one
# plain `pip install --only-binary=:all: --platform ... --target` of the same pins (what a user
# would run by hand). See bench/README.md ("fix").
#
#   usage: bench/fix.sh
#
# Env: ROUNDS (5), BENCH_OUT (bench/out), PYTHON (python3), FIX_RESULTS (bench/results.md: the
#      "## fix" section is replaced or appended), FIX_MAX_RATIO (1.3).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(git -C "$HERE" rev-parse --show-toplevel)
OUT=${BENCH_OUT:-$ROOT/bench/out}
ROUNDS=${ROUNDS:-5}
PY=${PYTHON:-python3}
RESULTS=${FIX_RESULTS:-$ROOT/bench/results.md}
MAX_RATIO=${FIX_MAX_RATIO:-1.3}

# Ten popular packages with native code, pinned. numpy 2.4.6 has no wheel for glibc 2.26
# (manylinux_2_28 only), so the target is python3.12 (Amazon Linux 2023, glibc 2.34), where every
# pin has a manylinux wheel: the fix rebuilds all ten.
PINS=(numpy==2.4.6 cryptography==50.0.2 pydantic-core==2.50.5 orjson==3.13.0 lxml==6.1.3
      pillow==12.1.0 psutil==7.2.2 regex==2026.11.19 pyyaml==6.0.4 markupsafe==3.0.4)
PYVER=3.12
MAC_PLATFORM=macosx_11_0_arm64

T0=$SECONDS
TSTEP=
log() { printf '== [%3d s] %s\n' "$((SECONDS - T0))" "$*" >&2; }
step() {
  [ -z "$TSTEP" ] || printf '   (step took %d s)\n' "$((SECONDS - TSTEP))" >&2
  TSTEP=$SECONDS
  log "$*"
}
export PIP_ROOT_USER_ACTION=ignore

command -v "$PY" >/dev/null || { echo "bench: $PY not found" >&2; exit 2; }
mkdir -p "$OUT/fix"
OUT=$(cd "$OUT" && pwd)
WORK=$OUT/fix

# --- the input: a function whose dependencies were installed on a Mac ----------------------------
step "input: ${#PINS[@]} macOS wheels ($MAC_PLATFORM, CPython $PYVER) into mac-function.zip"
KEY=$(printf '%s\n' "$PYVER" "$MAC_PLATFORM" "${PINS[@]}" | sha256sum | cut -c1-12)
INPUT=$WORK/mac-function-$KEY.zip
if [ ! -s "$INPUT" ]; then
  rm -rf "$WORK/mac-site"
  "$PY" -m pip install -q --disable-pip-version-check --no-deps --only-binary=:all: \
    --implementation cp --python-version "$PYVER" --abi "cp${PYVER/./}" --platform "$MAC_PLATFORM" \
    --target "$WORK/mac-site" "${PINS[@]}"
  printf 'import numpy, orjson, lxml.etree, PIL.Image, cryptography, pydantic_core, psutil, regex, yaml, markupsafe\n\ndef handler(event, context):\n    return {"ok": True}\n' \
    > "$WORK/mac-site/lambda_function.py"
  rm -f "$INPUT.partial"
  (cd "$WORK/mac-site" && find . -type f | LC_ALL=C sort | zip -q -X "$INPUT.partial" -@)
  mv "$INPUT.partial" "$INPUT"
  rm -rf "$WORK/mac-site"
else
  log "cached: $INPUT"
fi

# --- elfcheck ------------------------------------------------------------------------------------
step "building elfcheck (cargo build --release)"
(cd "$ROOT" && cargo build --release --quiet)
ELFCHECK=$(cd "$ROOT" && cargo metadata --format-version 1 --no-deps \
  | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release/elfcheck
[ -x "$ELFCHECK" ] || { echo "bench: no $ELFCHECK after the build" >&2; exit 2; }
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD)
if [ -n "$(git -C "$ROOT" status --porcelain --untracked-files=no -- src Cargo.toml Cargo.lock data)" ]; then
  COMMIT="$COMMIT (plus uncommitted changes)"
fi

# --- measure -------------------------------------------------------------------------------------
step "timing: 1 warm-up (fills pip's cache) and $ROUNDS interleaved rounds"
"$PY" - "$ELFCHECK" "$INPUT" "$WORK" "$ROUNDS" "$RESULTS" "$MAX_RATIO" "$COMMIT" "$PYVER" "${PINS[@]}" <<'PYEOF'
import datetime, os, platform, shutil, statistics, subprocess, sys, time

elfcheck, input_zip, work, rounds, results, max_ratio, commit, pyver = sys.argv[1:9]
pins = sys.argv[9:]
rounds, max_ratio = int(rounds), float(max_ratio)
py = os.environ.get("PYTHON", "python3")
major, minor = pyver.split(".")
# The same interpreter tags and platform tags as elfcheck's own pip command (commands.rs):
# manylinux_2_34 down to the floor 2_17, then manylinux2014.
platforms = [f"manylinux_2_{m}_x86_64" for m in range(34, 16, -1)] + ["manylinux2014_x86_64"]
cert = os.environ.get("SSL_CERT_FILE")
pip_cmd = [py, "-m", "pip", "install", "--disable-pip-version-check", "--no-deps", "--no-compile",
           "--only-binary=:all:", "--implementation", "cp", "--python-version", pyver,
           "--abi", f"cp{major}{minor}"]
for p in platforms:
    pip_cmd += ["--platform", p]
if cert and os.path.isfile(cert):
    pip_cmd += ["--cert", cert]
pip_target = os.path.join(work, "pip-target")
pip_cmd += ["--target", pip_target] + pins
fixed = "fixed.zip"  # in `work`, the commands' directory
fix_cmd = [elfcheck, "fix", input_zip, "--runtime", f"python{pyver}", "--arch", "x86_64",
           "--via", "pip", "--python", py, "-q", "--no-config", "-o", fixed]


def clean():
    shutil.rmtree(pip_target, ignore_errors=True)
    try:
        os.remove(os.path.join(work, fixed))
    except FileNotFoundError:
        pass


def run(name, argv):
    clean()
    t = time.perf_counter()
    p = subprocess.run(argv, cwd=work, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    dt = time.perf_counter() - t
    if p.returncode != 0:
        sys.stderr.write(p.stdout.decode(errors="replace")[-4000:])
        sys.exit(f"bench: {name} exited {p.returncode}")
    return dt, p.stdout.decode(errors="replace")


def load():
    return os.getloadavg()[0]


load_before = load()
t = time.perf_counter()
_, pip_out = run("pip", pip_cmd)
_, fix_out = run("elfcheck fix", fix_cmd)
print(f"   warm-up: {time.perf_counter() - t:.1f} s", file=sys.stderr)
fix_summary = [l for l in fix_out.splitlines() if l.startswith(("output:", "re-check:", "rebuilt"))]
times = {"pip": [], "fix": []}
for i in range(rounds):
    # Interleaved, and the order alternates, so neither command is favoured by going first.
    order = [("pip", pip_cmd), ("fix", fix_cmd)] if i % 2 == 0 else [("fix", fix_cmd), ("pip", pip_cmd)]
    for name, argv in order:
        dt, _ = run(name, argv)
        times[name].append(dt)
    print(f"   round {i + 1}: pip {times['pip'][-1]:.2f} s, fix {times['fix'][-1]:.2f} s", file=sys.stderr)
load_after = load()
clean()

med = {k: statistics.median(v) for k, v in times.items()}
ratio = med["fix"] / med["pip"]
verdict = "PASS" if ratio <= max_ratio else "FAIL"
nproc = os.cpu_count()
cpu = "unknown"
try:
    with open("/proc/cpuinfo") as f:
        cpu = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), cpu)
except OSError:
    pass
size = os.path.getsize(input_zip)
pip_version = subprocess.run([py, "-m", "pip", "--version"], capture_output=True, text=True).stdout.split(" from")[0]

lines = [
    "## fix",
    "",
    f"`bench/fix.sh`, {datetime.date.today().isoformat()}, {nproc} CPUs ({cpu}), elfcheck {commit}, {pip_version}; "
    f"load average {load_before:.2f} before, {load_after:.2f} after.",
    "",
    f"Input: a python{pyver} function whose {len(pins)} dependencies were installed on a Mac "
    f"(`pip install --platform macosx_11_0_arm64`), {size / 1e6:.1f} MB zipped: "
    + ", ".join(f"`{p}`" for p in pins) + ".",
    "",
    "- baseline: one `pip install --only-binary=:all: --no-deps --no-compile --implementation cp "
    f"--python-version {pyver} --abi cp{major}{minor} --platform manylinux_2_34_x86_64 ... manylinux2014_x86_64 "
    "--target DIR` of the same pins (the same tags elfcheck asks for);",
    f"- `elfcheck fix --via pip --runtime python{pyver} --arch x86_64 -o fixed.zip`: check, plan, the same pip "
    "install (one invocation for all ten), the new zip (unchanged entries copied as stored, and reinstalled files "
    "identical to the entries they replace too; the other new files deflated), "
    "the full re-check, the atomic rename.",
    "",
    f"Both with a warm pip cache (one warm-up run of each), then {rounds} interleaved rounds (order alternating).",
    "",
    "| command | median s | min s | max s |",
    "|---|---:|---:|---:|",
    f"| pip install (baseline) | {med['pip']:.2f} | {min(times['pip']):.2f} | {max(times['pip']):.2f} |",
    f"| elfcheck fix --via pip | {med['fix']:.2f} | {min(times['fix']):.2f} | {max(times['fix']):.2f} |",
    "",
    f"**Ratio of medians: {ratio:.2f}** (target <= {max_ratio}): **{verdict}**.",
    "",
    "elfcheck's last lines: " + "; ".join(f"`{l}`" for l in fix_summary),
    "",
]
section = "\n".join(lines)
print(section)

# Replace the "## fix" section of the results file, or append it.
text = open(results).read() if os.path.exists(results) else "# elfcheck benchmark results\n\n"
start = text.find("\n## fix\n") + 1 if "\n## fix\n" in text else (0 if text.startswith("## fix\n") else -1)
if start >= 0:
    end = text.find("\n## ", start + 1)
    text = text[:start] + section + (text[end + 1:] if end >= 0 else "")
else:
    text = text.rstrip("\n") + "\n\n" + section
open(results, "w").write(text)
print(f"   written to {results}", file=sys.stderr)
PYEOF
step "done in $((SECONDS - T0)) s"
