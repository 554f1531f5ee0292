#!/usr/bin/env python3
"""Time elfcheck against the physical floor, print and save a Markdown report.

Called by bench/run.sh, which builds everything first; see bench/README.md.

    timing.py --elfcheck BIN --zipfloor BIN --corpus DIR --synthetic DIR
              --rounds N --out results.md --commit TEXT
"""
import argparse
import datetime
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import time

MB = 1_000_000  # RSS is reported and checked in MB of 10^6 bytes

# Derived checks: thresholds.
BIG_ZIP_VS_FLOOR = 1.15
MEDIUM_ZIP_VS_FLOOR = 1.25
RSS_BIG_ZIP_MB = 160
MANY_SMALL_MINUS_EMPTY_S = 0.5
APP_VS_FLOOR = 1.2


class Cmd:
    def __init__(self, key, label, argv, ok_codes=(0,), floor=None, rss=False, json_out=False):
        self.key = key  # short id used by the checks
        self.label = label  # shown in the table
        self.argv = argv
        self.ok_codes = ok_codes
        self.floor = floor  # key of the floor command this one is compared with
        self.rss = rss  # measure peak RSS
        self.json_out = json_out  # stdout is elfcheck's JSON report
        self.times = []  # wall seconds
        self.cpu = []  # user + system seconds of the process tree
        self.last_cpu = 0.0
        self.rss_kb = None
        self.note = ""


def commands(a):
    c = a.corpus
    s = a.synthetic

    def elf(path):
        return [a.elfcheck, "check", "--offline", "--runtime", "python3.12", "--arch", "x86_64",
                "--format", "json", path]

    ok_elf = (0, 1)  # 1 = findings reported; 2 = usage/input/internal error
    return [
        Cmd("elf_big", "elfcheck big.zip", elf(f"{c}/big.zip"), ok_elf, "floor2_big", True, True),
        Cmd("elf_medium", "elfcheck medium.zip", elf(f"{c}/medium.zip"), ok_elf, "floor2_medium",
            True, True),
        Cmd("elf_bigdir", "elfcheck big/ (directory)", elf(f"{c}/big"), ok_elf, "floor2_big", True,
            True),
        Cmd("elf_many", "elfcheck many-small.zip", elf(f"{s}/many-small.zip"), ok_elf, None, True,
            True),
        Cmd("elf_empty", "elfcheck empty.zip", elf(f"{s}/empty.zip"), ok_elf, None, True, True),
        Cmd("floor2_big", "zipfloor big.zip 2 full", [a.zipfloor, f"{c}/big.zip", "2", "full"],
            floor="floor2_big", rss=True),
        Cmd("floor1_big", "zipfloor big.zip 1 full", [a.zipfloor, f"{c}/big.zip", "1", "full"],
            floor="floor2_big", rss=True),
        Cmd("floor2_medium", "zipfloor medium.zip 2 full",
            [a.zipfloor, f"{c}/medium.zip", "2", "full"], floor="floor2_medium", rss=True),
        Cmd("unzip_big", "unzip -t -q big.zip", ["unzip", "-t", "-q", f"{c}/big.zip"],
            floor="floor2_big", rss=True),
    ] + app_commands(a, ok_elf)


def app_commands(a, ok_elf):
    """The benchmark application (make-app.py): elfcheck on the whole build in one command,
    the floor of its unique bytes (zipfloor on each layer and function zip once, in turn), and
    elfcheck once per function with its layers, as without application support."""
    if not a.app:
        return []
    with open(os.path.join(a.app, "unique-zips.txt")) as f:
        zips = f.read().split()
    loop = 'z="$1"; shift; for x in "$@"; do "$z" "$x" 2 full; done'
    return [
        Cmd("elf_app", "elfcheck app/.aws-sam/build (20 functions, 3 layers)",
            [a.elfcheck, "check", "--offline", "--format", "json", f"{a.app}/.aws-sam/build"], ok_elf,
            "floor_app", True, True),
        Cmd("floor_app", f"zipfloor on each of the {len(zips)} unique zips, 2 threads",
            ["sh", "-c", loop, "sh", a.zipfloor] + zips, floor="floor_app", rss=True),
        Cmd("elf_app_each", "elfcheck once per function with --layer (20 runs)",
            [f"{a.app}/per-function.sh", a.elfcheck], floor="floor_app"),
    ]


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_once(cmd, capture=False):
    c0 = children_cpu()
    t0 = time.perf_counter()
    p = subprocess.run(cmd.argv, stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
                       stderr=subprocess.PIPE)
    dt = time.perf_counter() - t0
    cmd.last_cpu = children_cpu() - c0
    if p.returncode not in cmd.ok_codes:
        sys.stderr.write(p.stderr.decode(errors="replace"))
        sys.exit(f"bench: `{' '.join(cmd.argv)}` exited {p.returncode} "
                 f"(accepted: {', '.join(map(str, cmd.ok_codes))})")
    return dt, p


def describe_report(cmd, p):
    """One line about what elfcheck found, from its JSON (warm-up run)."""
    try:
        doc = json.loads(p.stdout)
        s = doc["summary"]
        ent = sum(i.get("entries", 0) for i in doc.get("inputs", []))
        return (f"exit {p.returncode}; entries={ent} binaries={s.get('binaries')} "
                f"errors={s.get('errors')} warnings={s.get('warnings')} infos={s.get('infos')}")
    except Exception as e:  # noqa: BLE001 - report, don't die
        return f"exit {p.returncode}; JSON not understood: {e}"


def peak_rss_kb(cmd):
    p = subprocess.run(["/usr/bin/time", "-v"] + cmd.argv, stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if p.returncode not in cmd.ok_codes:
        sys.exit(f"bench: /usr/bin/time -v {' '.join(cmd.argv)} exited {p.returncode}")
    m = re.search(rb"Maximum resident set size \(kbytes\): (\d+)", p.stderr)
    return int(m.group(1)) if m else None


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def fmt_s(x):
    return f"{x:.3f}"


def main():
    ap = argparse.ArgumentParser()
    for k in ("elfcheck", "zipfloor", "corpus", "synthetic", "out", "commit"):
        ap.add_argument(f"--{k}", required=True)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--corpus-stats", default=None)
    ap.add_argument("--app", default=None, help="the benchmark application (make-app.py OUTDIR/app)")
    ap.add_argument("--app-stats", default=None)
    ap.add_argument("--nproc", default=str(os.cpu_count()))
    a = ap.parse_args()
    if a.rounds < 1:
        sys.exit("bench: ROUNDS must be >= 1")

    cmds = commands(a)
    by = {c.key: c for c in cmds}

    load_before = os.getloadavg()
    # Warm-up: one run of each puts the zips and the big/ tree in the page
    # cache (and checks exit codes and elfcheck's JSON).
    print("warm-up ...", file=sys.stderr)
    for c in cmds:
        _, p = run_once(c, capture=c.json_out)
        if c.json_out:
            c.note = describe_report(c, p)

    # Interleaved rounds: every command once per round, so drift (thermal,
    # noisy neighbours) spreads over all of them alike.
    for r in range(a.rounds):
        print(f"round {r + 1}/{a.rounds} ...", file=sys.stderr)
        for c in cmds:
            dt, _ = run_once(c)
            c.times.append(dt)
            c.cpu.append(c.last_cpu)

    load_after = os.getloadavg()
    print("peak RSS ...", file=sys.stderr)
    for c in cmds:
        if c.rss:
            c.rss_kb = peak_rss_kb(c)

    med = {c.key: statistics.median(c.times) for c in cmds}

    lines = []
    out = lines.append
    now = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M:%S %z")
    out("# elfcheck benchmark")
    out("")
    out(f"- date: {now}")
    out(f"- nproc: {a.nproc}")
    out(f"- CPU: {cpu_model()}")
    out(f"- elfcheck commit: {a.commit}")
    out(f"- rounds: {a.rounds} (interleaved, after one warm-up run of each; inputs in the page cache)")
    out(f"- load average (1 min) before / after the rounds: {load_before[0]:.2f} / "
        f"{load_after[0]:.2f} (well above 0 means other work shared the CPUs: trust the "
        f"CPU column and min more than the medians)")
    if a.corpus_stats and os.path.exists(a.corpus_stats):
        with open(a.corpus_stats) as f:
            for line in f.read().strip().splitlines():
                out(f"- corpus: `{line}`")
    if a.app_stats and os.path.exists(a.app_stats):
        with open(a.app_stats) as f:
            for line in f.read().strip().splitlines():
                out(f"- application: `{line}`")
    out("")
    out("| command | median s | min s | max s | median / floor (2 threads, same zip) "
        "| peak RSS MB | median CPU s |")
    out("|---|---:|---:|---:|---:|---:|---:|")
    for c in cmds:
        ratio = f"{med[c.key] / med[c.floor]:.2f}" if c.floor else "n/a"
        rss = f"{c.rss_kb * 1024 / MB:.1f}" if c.rss_kb is not None else ""
        out(f"| `{c.label}` | {fmt_s(med[c.key])} | {fmt_s(min(c.times))} | "
            f"{fmt_s(max(c.times))} | {ratio} | {rss} | {fmt_s(statistics.median(c.cpu))} |")
    out("")
    out("elfcheck command: `elfcheck check --offline --runtime python3.12 --arch x86_64 --format json FILE "
        "> /dev/null`; the big/ directory is big.zip unpacked with `unzip -q`, so its floor "
        "is big.zip's. The application (bench/make-app.py) is checked as a whole, with no "
        "--runtime: each function's template target; its floor is zipfloor run on each "
        "distinct zip once (3 layers, 20 functions) in turn. "
        "Wall times are medians of the rounds; CPU = user + system time. "
        "RSS from `/usr/bin/time -v` (1 MB = 10^6 bytes).")
    out("")

    checks = []

    def check(name, ok, detail):
        checks.append((name, ok, detail))

    r = med["elf_big"] / med["floor2_big"]
    check(f"big.zip <= {BIG_ZIP_VS_FLOOR} x floor(2 threads, big)", r <= BIG_ZIP_VS_FLOOR,
          f"{fmt_s(med['elf_big'])} s / {fmt_s(med['floor2_big'])} s = {r:.2f}")
    r = med["elf_medium"] / med["floor2_medium"]
    check(f"medium.zip <= {MEDIUM_ZIP_VS_FLOOR} x floor(2 threads, medium)",
          r <= MEDIUM_ZIP_VS_FLOOR,
          f"{fmt_s(med['elf_medium'])} s / {fmt_s(med['floor2_medium'])} s = {r:.2f}")
    check("big/ dir <= big.zip", med["elf_bigdir"] <= med["elf_big"],
          f"{fmt_s(med['elf_bigdir'])} s vs {fmt_s(med['elf_big'])} s")
    rss = by["elf_big"].rss_kb
    if rss is None:
        check(f"peak RSS on big.zip <= {RSS_BIG_ZIP_MB} MB", False, "not measured")
    else:
        rss_mb = rss * 1024 / MB
        check(f"peak RSS on big.zip <= {RSS_BIG_ZIP_MB} MB", rss_mb <= RSS_BIG_ZIP_MB,
              f"{rss_mb:.1f} MB")
    d = med["elf_many"] - med["elf_empty"]
    check(f"many-small.zip - empty.zip < {MANY_SMALL_MINUS_EMPTY_S} s",
          d < MANY_SMALL_MINUS_EMPTY_S,
          f"{fmt_s(med['elf_many'])} s - {fmt_s(med['elf_empty'])} s = {fmt_s(d)} s")

    if "elf_app" in med:
        r = med["elf_app"] / med["floor_app"]
        check(f"application <= {APP_VS_FLOOR} x floor(unique zips, 2 threads)", r <= APP_VS_FLOOR,
              f"{fmt_s(med['elf_app'])} s / {fmt_s(med['floor_app'])} s = {r:.2f}")

    out("| check | result | measured |")
    out("|---|---|---|")
    for name, ok, detail in checks:
        out(f"| {name} | {'PASS' if ok else '**FAIL**'} | {detail} |")
    out("")
    out("elfcheck reports (warm-up run):")
    out("")
    for c in cmds:
        if c.json_out:
            out(f"- `{c.label}`: {c.note}")
    out("")
    failed = [n for n, ok, _ in checks if not ok]
    if failed:
        out(f"FAIL: {len(failed)} of {len(checks)} checks: " + "; ".join(failed))
    else:
        out(f"PASS: all {len(checks)} checks")

    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    with open(a.out, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
