#!/usr/bin/env python3
"""Helpers for build.sh: wheel names, install checks, deterministic zips.

    realworld.py wheel-spec FILE.whl              -> "NAME VERSION PYVER ABI PLATFORM" for pip download
    realworld.py sha256 FILE                      -> hex digest
    realworld.py check-dists DIR FILE.whl...      installed *.dist-info in DIR == exactly these wheels
    realworld.py unpack-wheel FILE.whl DIR        extract a wheel over DIR, overwriting (as `unzip -o`)
    realworld.py check-npm DIR NAME@VERSION...    DIR/node_modules holds exactly these packages
    realworld.py zip SRC OUT.zip                  deterministic zip of SRC's contents

Zips: entries sorted by path, directories included (mode 0755), files keep their 0644/0755 mode,
every timestamp 2024-01-01 00:00:00, Unix attributes, deflate level 1 (fast; the big packages are 200 MB unzipped), no extra fields.
"""
import hashlib
import json
import os
import re
import stat
import sys
import zipfile

DATE = (2024, 1, 1, 0, 0, 0)
WHEEL_RE = re.compile(r"^(?P<name>[^-]+)-(?P<version>[^-]+)(-(?P<build>\d[^-]*))?-(?P<py>[^-]+)-(?P<abi>[^-]+)-(?P<plat>[^-]+)\.whl$")


def die(msg):
    sys.stderr.write("realworld.py: %s\n" % msg)
    sys.exit(1)


def canonical(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_wheel(path):
    m = WHEEL_RE.match(os.path.basename(path))
    if not m:
        die("not a wheel file name: %s" % path)
    return m


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def cmd_wheel_spec(path):
    m = parse_wheel(path)
    py = m.group("py").split(".")[0]
    pyver = "3" if py == "py3" else "%s.%s" % (py[2], py[3:])
    print(canonical(m.group("name")), m.group("version"), pyver, m.group("abi"), m.group("plat").split(".")[0])


def read_headers(path):
    out = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                break
            if ":" in line:
                k, v = line.split(":", 1)
                out.setdefault(k.strip(), []).append(v.strip())
    return out


def cmd_check_dists(target, wheels):
    want = {}
    for w in wheels:
        m = parse_wheel(w)
        tags = {"%s-%s-%s" % (py, abi, plat)
                for py in m.group("py").split(".") for abi in m.group("abi").split(".")
                for plat in m.group("plat").split(".")}
        want[(canonical(m.group("name")), m.group("version"))] = tags
    got = {}
    for entry in sorted(os.listdir(target)):
        if not entry.endswith(".dist-info"):
            continue
        meta = read_headers(os.path.join(target, entry, "METADATA"))
        wheel = read_headers(os.path.join(target, entry, "WHEEL"))
        got[(canonical(meta["Name"][0]), meta["Version"][0])] = set(wheel.get("Tag", []))
    if set(got) != set(want):
        die("%s: installed %s, asked for %s" % (target, sorted(got), sorted(want)))
    for key, tags in want.items():
        if got[key] != tags:
            die("%s: %s %s installed with tags %s, asked for %s" % (target, key[0], key[1], sorted(got[key]), sorted(tags)))


def cmd_unpack_wheel(whl, dest):
    with zipfile.ZipFile(whl) as z:
        for zi in z.infolist():
            if zi.is_dir():
                continue
            parts = zi.filename.split("/")
            if parts[0].startswith("/") or ".." in parts:
                die("unsafe path %r in %s" % (zi.filename, whl))
            out = os.path.join(dest, *parts)
            os.makedirs(os.path.dirname(out), exist_ok=True)
            with z.open(zi) as src, open(out, "wb") as f:
                f.write(src.read())
            os.chmod(out, 0o755 if (zi.external_attr >> 16) & 0o111 else 0o644)


def npm_packages(node_modules):
    """name@version of every package under a node_modules directory, nested ones included."""
    found = set()
    if not os.path.isdir(node_modules):
        return found
    dirs = []
    for entry in sorted(os.listdir(node_modules)):
        if entry.startswith("."):
            continue
        if entry.startswith("@"):
            dirs += [os.path.join(node_modules, entry, sub) for sub in sorted(os.listdir(os.path.join(node_modules, entry)))]
        else:
            dirs.append(os.path.join(node_modules, entry))
    for d in dirs:
        with open(os.path.join(d, "package.json"), encoding="utf-8") as f:
            pj = json.load(f)
        found.add("%s@%s" % (pj["name"], pj["version"]))
        found |= npm_packages(os.path.join(d, "node_modules"))
    return found


def cmd_check_npm(root, specs):
    want = set(specs)
    got = npm_packages(os.path.join(root, "node_modules"))
    if got != want:
        die("%s: node_modules holds %s; expected %s (missing %s, extra %s)"
            % (root, sorted(got), sorted(want), sorted(want - got), sorted(got - want)))


def cmd_zip(src, out):
    items = []
    for dirpath, dirnames, filenames in os.walk(src):
        dirnames.sort()
        rel = os.path.relpath(dirpath, src).replace(os.sep, "/")
        prefix = "" if rel == "." else rel + "/"
        for d in dirnames:
            if os.path.islink(os.path.join(dirpath, d)):
                die("symlink %s%s: not expected in these packages" % (prefix, d))
            items.append((prefix + d + "/", None))
        for f in filenames:
            full = os.path.join(dirpath, f)
            if os.path.islink(full) or not os.path.isfile(full):
                die("not a regular file: %s%s" % (prefix, f))
            items.append((prefix + f, full))
    items.sort(key=lambda it: it[0])
    tmp = out + ".part"
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for name, full in items:
            zi = zipfile.ZipInfo(name, DATE)
            zi.create_system = 3
            if full is None:
                zi.external_attr = (stat.S_IFDIR | 0o755) << 16 | 0x10
                z.writestr(zi, b"")
            else:
                mode = 0o755 if os.stat(full).st_mode & 0o111 else 0o644
                zi.external_attr = (stat.S_IFREG | mode) << 16
                zi.compress_type = zipfile.ZIP_DEFLATED
                with open(full, "rb") as f:
                    z.writestr(zi, f.read(), compresslevel=1)
    os.replace(tmp, out)


def main(argv):
    if len(argv) < 2:
        die(__doc__)
    cmd, args = argv[1], argv[2:]
    if cmd == "wheel-spec" and len(args) == 1:
        cmd_wheel_spec(args[0])
    elif cmd == "sha256" and len(args) == 1:
        print(sha256(args[0]))
    elif cmd == "check-dists" and len(args) >= 2:
        cmd_check_dists(args[0], args[1:])
    elif cmd == "unpack-wheel" and len(args) == 2:
        cmd_unpack_wheel(args[0], args[1])
    elif cmd == "check-npm" and len(args) >= 2:
        cmd_check_npm(args[0], args[1:])
    elif cmd == "zip" and len(args) == 2:
        cmd_zip(args[0], args[1])
    else:
        die("bad usage: %s" % " ".join(argv[1:]))


if __name__ == "__main__":
    main(sys.argv)
