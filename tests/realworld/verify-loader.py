#!/usr/bin/env python3
"""Asks a real glibc loader what it finds for the roots of each real-world case.

    sudo python3 tests/realworld/verify-loader.py OUTDIR [--check] [CASE-ID...]

OUTDIR is what build.sh wrote. For every case of cases.json that has a `loader_check`:

1. The artifact is unpacked into a fresh root directory <tmp> as Lambda lays it out: a
   function under <tmp>/var/task, a layer under <tmp>/opt.
2. <tmp>/lib64 gets the host's copies of the libraries every managed Lambda runtime has
   (glibc's libc/libm/libpthread/libdl/librt/libresolv/libutil, libstdc++, libgcc_s, libz)
   and the loader: nothing else. No ld.so.cache.
3. Each root (the files the runtime loads: for Python every extension module the interpreter can
   import, by file name and package path; for Node the addons listed in the case) is traced with
   that loader (LD_TRACE_LOADED_OBJECTS=1, what ldd does) inside the root directory (chroot for
   x86_64; `qemu-aarch64 -L <tmp>` for arm64), working directory /var/task, LD_LIBRARY_PATH
   Lambda's. So a library is found only where Lambda's loader would find it: in the package
   through RPATH/RUNPATH/LD_LIBRARY_PATH, or in /lib64.
4. For every object the trace loaded, the GLIBC_x.y / GLIBCXX_x.y.z version needs (non-weak
   entries of readelf -V) above the runtime's ceiling are listed (the host's glibc 2.36 meets
   them all, so the trace itself cannot show them).

A runtime library the host has no copy of (libz.so.1 for arm64: Debian's cross packages have
none) is reported as such, not as a missing need.

Prints per case the roots traced, the needs not found (root, soname) and the version needs above
the ceiling (object, version). With --check, compares them with the case's
`loader_check.not_found` and `loader_check.too_new` and exits 1 on a difference.
Needs root (chroot) and, for arm64 cases, qemu-user and the aarch64 glibc of Debian's
libc6-arm64-cross (/usr/aarch64-linux-gnu/lib).
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
LAMBDA_LD_LIBRARY_PATH = "/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib"
CORE = ["libc.so.6", "libm.so.6", "libpthread.so.0", "libdl.so.2", "librt.so.1", "libresolv.so.2", "libutil.so.1",
        "libstdc++.so.6", "libgcc_s.so.1", "libz.so.1"]
HOST = {
    "x86_64": {
        "libdirs": ["/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu"],
        "loader": ("/lib64/ld-linux-x86-64.so.2", "/lib64/ld-linux-x86-64.so.2"),
        "triplet": "x86_64-linux-gnu",
    },
    "arm64": {
        "libdirs": ["/usr/aarch64-linux-gnu/lib"],
        "loader": ("/usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1", "/lib/ld-linux-aarch64.so.1"),
        "triplet": "aarch64-linux-gnu",
    },
}
# Amazon Linux 2 / 2023 ceilings (DESIGN.md; AL2023's GLIBCXX is the conservative 2024 value)
CEILINGS = {
    "al2": {"GLIBC": "2.26", "GLIBCXX": "3.4.24"},
    "al2023": {"GLIBC": "2.34", "GLIBCXX": "3.4.29"},
}


def vkey(v):
    return tuple(int(x) for x in v.split("."))


def os_of(runtime):
    al2 = {"python3.9", "python3.10", "python3.11", "nodejs18.x", "java8.al2", "java11", "java17", "ruby3.2",
           "provided.al2"}
    return "al2" if runtime in al2 else "al2023"


def python_roots(files, runtime, arch, sys_path_root):
    """Package paths of the extension modules the interpreter can import."""
    minor = runtime.replace("python3.", "")
    triplet = HOST[arch]["triplet"]
    suffix = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\.(cpython-3%s-%s\.so|abi3\.so|so)$" % (minor, re.escape(triplet)))
    roots = []
    for f in files:
        if not f.startswith(sys_path_root):
            continue
        parts = f[len(sys_path_root):].split("/")
        if suffix.match(parts[-1]) and all(re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", p) for p in parts[:-1]):
            roots.append(f)
    return sorted(roots)


def version_needs(path):
    out = subprocess.run(["readelf", "-V", "-W", path], capture_output=True, text=True).stdout
    needs = []
    in_needs = False
    for line in out.splitlines():
        if line.startswith("Version needs section"):
            in_needs = True
            continue
        if line.startswith("Version ") and not line.startswith("Version needs"):
            in_needs = False
        m = re.search(r"Name: (GLIBCXX|GLIBC)_([0-9.]+)\s+Flags: (\S+)", line) if in_needs else None
        if m and "WEAK" not in m.group(3):
            needs.append((m.group(1), m.group(2)))
    return needs


def check_case(case, artifact, arch, runtime):
    lc = case["loader_check"]
    tmp = tempfile.mkdtemp(prefix="elfcheck-rw-")
    try:
        layer = case.get("layout") == "layer"
        base = tmp + ("/opt" if layer else "/var/task")
        os.makedirs(tmp + "/var/task", exist_ok=True)
        os.makedirs(base, exist_ok=True)
        with zipfile.ZipFile(artifact) as z:
            z.extractall(base)
            files = [n for n in z.namelist() if not n.endswith("/")]
        os.makedirs(tmp + "/lib64")
        host = HOST[arch]
        absent = set()  # runtime libraries the host has no copy of (Debian's cross packages have no arm64 libz)
        for so in CORE:
            src = next((os.path.join(d, so) for d in host["libdirs"] if os.path.exists(os.path.join(d, so))), None)
            if src is None:
                absent.add(so)
                continue
            shutil.copy(os.path.realpath(src), tmp + "/lib64/" + so)
        loader_src, loader_dst = host["loader"]
        os.makedirs(os.path.dirname(tmp + loader_dst), exist_ok=True)
        shutil.copy(os.path.realpath(loader_src), tmp + loader_dst)

        prefix = "/opt/" if layer else "/var/task/"
        if "roots" in lc:
            roots = lc["roots"]
        else:
            sys_path_root = "python/" if layer else ""
            roots = python_roots(files, runtime, arch, sys_path_root)
        env = {"LD_TRACE_LOADED_OBJECTS": "1", "LD_LIBRARY_PATH": LAMBDA_LD_LIBRARY_PATH, "PATH": "/usr/bin:/bin"}
        not_found, loaded, runtime_only = set(), set(), set()
        for root in roots:
            target = prefix + root
            if arch == "x86_64":
                def enter():
                    os.chroot(tmp)
                    os.chdir("/var/task")
                cmd, pre, cwd = [loader_dst, target], enter, None
            else:
                # qemu-aarch64 is itself dynamically linked: the loader's variables must reach only the
                # guest (-E), or the host's ld.so traces qemu instead.
                guest = [a for k, v in env.items() if k != "PATH" for a in ("-E", "%s=%s" % (k, v))]
                cmd = ["qemu-aarch64"] + guest + ["-L", tmp, tmp + loader_dst, "--inhibit-cache", target]
                pre, cwd = None, tmp + "/var/task"
            r = subprocess.run(cmd, env=env if arch == "x86_64" else {"PATH": env["PATH"]}, capture_output=True,
                               text=True, preexec_fn=pre, cwd=cwd)
            if r.returncode != 0:
                sys.exit("verify-loader: %s: %s failed: %s" % (case["id"], root, r.stderr.strip()))
            for line in r.stdout.splitlines():
                line = line.strip()
                m = re.match(r"(\S+) => not found$", line)
                if m and m.group(1) in absent:
                    runtime_only.add(m.group(1))
                    continue
                if m:
                    not_found.add((root, m.group(1)))
                    continue
                m = re.match(r"(\S+) => (\S+) \(0x", line)
                if m:
                    loaded.add(os.path.normpath(m.group(2)))
            loaded.add(target)
        ceiling = CEILINGS[os_of(runtime)]
        too_new = set()
        for obj in loaded:
            host_path = tmp + obj
            if obj.startswith("/lib64/") or obj.startswith("/lib/"):
                continue  # the runtime's own libraries
            for ns, ver in version_needs(host_path):
                if vkey(ver) > vkey(ceiling[ns]):
                    rel = obj[len(prefix):] if obj.startswith(prefix) else obj
                    too_new.add((rel, "%s_%s" % (ns, ver)))
        # keep only the highest version per object and namespace
        best = {}
        for rel, v in too_new:
            ns, ver = v.rsplit("_", 1)
            if (rel, ns) not in best or vkey(ver) > vkey(best[(rel, ns)]):
                best[(rel, ns)] = ver
        too_new = sorted("%s %s_%s" % (rel, ns, ver) for (rel, ns), ver in best.items())
        return roots, sorted("%s %s" % nf for nf in not_found), too_new, len(loaded), sorted(runtime_only)
    finally:
        shutil.rmtree(tmp)


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    check = "--check" in sys.argv
    if not args:
        sys.exit(__doc__)
    out, wanted = args[0], set(args[1:])
    with open(os.path.join(HERE, "cases.json"), encoding="utf-8") as f:
        cases = json.load(f)["cases"]
    differ = 0
    for case in cases:
        if "loader_check" not in case or (wanted and case["id"] not in wanted):
            continue
        arch, runtime = case["target"]["arch"], case["target"]["runtime"]
        roots, not_found, too_new, nloaded, runtime_only = check_case(case, os.path.join(out, case["artifact"]), arch, runtime)
        print("%s (%s %s): %d roots, %d objects loaded" % (case["id"], runtime, arch, len(roots), nloaded))
        for r in roots:
            print("  root      %s" % r)
        for nf in not_found:
            print("  not found %s" % nf)
        for tn in too_new:
            print("  too new   %s" % tn)
        for so in runtime_only:
            print("  runtime   %s (every runtime has it; the host has no %s copy to put in the sandbox)" % (so, arch))
        if check:
            lc = case["loader_check"]
            if sorted(lc.get("not_found", [])) != not_found or sorted(lc.get("too_new", [])) != too_new or (
                "root_count" in lc and lc["root_count"] != len(roots)):
                print("  DIFFERS from cases.json: not_found %s, too_new %s, root_count %s"
                      % (lc.get("not_found", []), lc.get("too_new", []), lc.get("root_count")))
                differ += 1
    if differ:
        sys.exit("verify-loader: %d cases differ from cases.json" % differ)


if __name__ == "__main__":
    main()
