#!/usr/bin/env python3
"""Asks this machine's glibc loader what it finds for each root of the loader scenarios.

    python3 testdata/loader-expectations.py [testdata/bin/loader]  > observed.tsv

make-fixtures.sh runs it and compares its output with testdata/loader-expectations.tsv, so the
committed expectations are what the real loader did, not what we believe it does.

Each scenario is copied into a fresh directory laid out as Lambda lays it out: the function's
files under <tmp>/var/task, a layer's files under <tmp>/opt. The working directory is
<tmp>/var/task (Lambda's is /var/task) and LD_LIBRARY_PATH is Lambda's, every directory
moved under <tmp>. The system directories stay the host's: the scenario sonames (libelfck-*)
exist nowhere else, so only the package and the layer can provide them.

For every root (the extension modules of the scenario) two runs:
- the trace ldd does (LD_TRACE_LOADED_OBJECTS=1 with ld.so; `ld.so --list` of glibc 2.36 stops
  at the first missing library) with LD_DEBUG=files, which names the object that needed each
  library the loader went looking for. Needs with no search were met by an already loaded
  object: they are listed as "already loaded".
- a real dlopen (ctypes.CDLL, RTLD_NOW) in a fresh Python, as the runtime imports an extension.

Output: tab-separated `scenario, root, needed by, needed, result`, runtime paths (/var/task/...,
/opt/...): first the needs the loader searched for, in its order (breadth first), then the needs
it met with an already loaded object. `result` is the file the loader used, `not found`, or
`already loaded`. A last row per root, needed = `(dlopen)`, says
`ok` or the error dlopen gave.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

LD_SO = "/lib64/ld-linux-x86-64.so.2"
LAMBDA_LD_LIBRARY_PATH = "/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib"

# label, scenario directory, function files (a dir inside it, or None), layer files (or None), roots
SCENARIOS = [
    ("rpath-inherited", "rpath-inherited", ".", None, ["/var/task/mod/m.so", "/var/task/mod/sub/deep.so"]),
    ("runpath-not-inherited", "runpath-not-inherited", ".", None, ["/var/task/mod/m.so"]),
    ("runpath-disables-rpath", "runpath-disables-rpath", ".", None,
     ["/var/task/mod/m.so", "/var/task/mod/both.so", "/var/task/mod/both_chain.so"]),
    ("already-loaded", "already-loaded", ".", None, ["/var/task/m.so", "/var/task/late.so"]),
    ("origin-in-layer", "origin-in-layer", None, ".",
     ["/opt/python/elfck_layer/_ext.so", "/opt/python/elfck_lr/_ext.so"]),
    ("only-in-layer", "only-in-layer", "function", "layer", ["/var/task/m.so", "/var/task/n.so"]),
    ("only-in-layer (no layer)", "only-in-layer", "function", None, ["/var/task/m.so"]),
    ("needed-with-slash", "needed-with-slash", ".", None,
     ["/var/task/mod/m.so", "/var/task/mod/o.so", "/var/task/mod/p.so"]),
    ("origin-braces", "origin-braces", ".", None, ["/var/task/mod/m.so", "/var/task/mod/n.so"]),
]

DLOPEN = "import ctypes, sys\ntry:\n    ctypes.CDLL(sys.argv[1])\n    print('ok')\nexcept OSError as e:\n    print('error: %s' % e)\n"


def needed(path):
    out = subprocess.run(["readelf", "-d", "-W", path], capture_output=True, text=True, check=True).stdout
    return re.findall(r"\(NEEDED\)\s+Shared library: \[(.*)\]$", out, re.M)


def expand_origin(need, obj):
    """A path-like DT_NEEDED entry with $ORIGIN / ${ORIGIN} expanded against the needing object."""
    if "/" not in need:
        return need
    origin = os.path.dirname(obj)
    return need.replace("${ORIGIN}", origin).replace("$ORIGIN", origin)


def run_root(tmp, root):
    host_root = tmp + root
    cwd = tmp + "/var/task"
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    env["LD_LIBRARY_PATH"] = ":".join(tmp + d for d in LAMBDA_LD_LIBRARY_PATH.split(":"))

    def lambda_path(p):
        p = os.path.normpath(os.path.join(cwd, p))
        if not p.startswith(tmp + "/"):
            sys.exit("loader-expectations: %s is outside the scenario" % p)
        return p[len(tmp):]

    trace = subprocess.run([LD_SO, host_root], cwd=cwd, capture_output=True, text=True,
                           env=dict(env, LD_TRACE_LOADED_OBJECTS="1", LD_DEBUG="files"))
    if trace.returncode != 0:
        sys.exit("loader-expectations: trace of %s failed: %s" % (root, trace.stderr))
    searches = re.findall(r"file=(.*?) \[0\];  needed by (.*?) \[0\]$", trace.stderr, re.M)
    results = []
    for line in trace.stdout.splitlines():
        line = line.strip()
        if line.startswith("linux-vdso.so"):
            continue
        m = re.match(r"(.*?) => not found$", line)
        if m:
            results.append((m.group(1), None))
            continue
        m = re.match(r"(.*?)(?: => (.*))? \(0x[0-9a-f]+\)$", line)
        if not m:
            sys.exit("loader-expectations: unexpected trace line %r" % line)
        results.append((m.group(1), m.group(2) or m.group(1)))
    if len(searches) != len(results) or any(s[0] != r[0] for s, r in zip(searches, results)):
        sys.exit("loader-expectations: %s: searches %r do not match the trace %r" % (root, searches, results))

    rows = []
    searched = set()
    loaded = [host_root]
    for (name, parent), (_, found) in zip(searches, results):
        parent = os.path.normpath(parent)
        # The loader reports a need with $ORIGIN expanded; name it as DT_NEEDED spells it.
        raw = [n for n in needed(parent) if os.path.normpath(expand_origin(n, parent)) == os.path.normpath(name)]
        if len(raw) != 1:
            sys.exit("loader-expectations: %s: no single DT_NEEDED of %s matches %r" % (root, parent, name))
        searched.add((parent, raw[0]))
        rows.append((lambda_path(parent), raw[0], lambda_path(found) if found else "not found"))
        if found:
            loaded.append(os.path.normpath(os.path.join(cwd, found)))
    # Needs that started no search were met by an object already loaded.
    for obj in loaded:
        for name in needed(obj):
            if (obj, name) not in searched:
                rows.append((lambda_path(obj), name, "already loaded"))

    probe = subprocess.run([sys.executable, "-c", DLOPEN, host_root], cwd=cwd, capture_output=True,
                           text=True, env=env)
    verdict = probe.stdout.strip().replace(tmp, "") or "error: %s" % probe.stderr.strip()
    if (verdict == "ok") != all(r[2] != "not found" for r in rows):
        sys.exit("loader-expectations: %s: dlopen says %r, the trace %r" % (root, verdict, rows))
    rows.append(("-", "(dlopen)", verdict))
    return rows


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    base = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "bin", "loader"))
    print("# scenario\troot\tneeded by\tneeded\tresult")
    for label, name, function, layer, roots in SCENARIOS:
        tmp = tempfile.mkdtemp(prefix="elfcheck-loader-")
        try:
            os.makedirs(tmp + "/var")
            if function:
                shutil.copytree(os.path.join(base, name, function), tmp + "/var/task", symlinks=True)
            else:
                os.makedirs(tmp + "/var/task")
            if layer:
                shutil.copytree(os.path.join(base, name, layer), tmp + "/opt", symlinks=True)
            for root in roots:
                for parent, need, result in run_root(tmp, root):
                    print("\t".join((label, root, parent, need, result)))
        finally:
            shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
