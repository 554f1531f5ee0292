#!/usr/bin/env python3
"""Builds the example packages in examples/ from the fixtures in testdata/bin.

Deterministic: fixed timestamps, sorted entries, explicit permissions. Run from anywhere:
    python3 testdata/make-examples.py
"""
import base64
import hashlib
import os
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BIN = os.path.join(HERE, "bin")
OUT = os.path.join(ROOT, "examples")
DATE = (2024, 1, 1, 0, 0, 0)


def fixture(rel):
    with open(os.path.join(BIN, rel), "rb") as f:
        return f.read()


def record_line(path, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return "%s,sha256=%s,%d" % (path, digest, len(data))


def dist(name, version, tag, files):
    """Files of an installed wheel: its own files plus .dist-info with METADATA, WHEEL, RECORD."""
    info = "%s-%s.dist-info" % (name, version)
    out = dict(files)
    out[info + "/METADATA"] = ("Metadata-Version: 2.1\nName: %s\nVersion: %s\n\n" % (name, version)).encode()
    out[info + "/WHEEL"] = ("Wheel-Version: 1.0\nGenerator: bdist_wheel\nRoot-Is-Purelib: false\nTag: %s\n" % tag).encode()
    lines = [record_line(p, d) for p, d in sorted(out.items())]
    lines.append(info + "/RECORD,,")
    out[info + "/RECORD"] = ("\n".join(lines) + "\n").encode()
    return out


def write_zip(name, files, modes=None):
    modes = modes or {}
    path = os.path.join(OUT, name)
    with zipfile.ZipFile(path + ".part", "w", zipfile.ZIP_DEFLATED) as z:
        for rel in sorted(files):
            zi = zipfile.ZipInfo(rel, DATE)
            zi.create_system = 3
            zi.external_attr = (0o100000 | modes.get(rel, 0o644)) << 16
            zi.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(zi, files[rel])
    os.replace(path + ".part", path)
    print("wrote", os.path.relpath(path, ROOT))


def main():
    os.makedirs(OUT, exist_ok=True)
    handler = b"import fastjson\nimport fastio\n\n\ndef lambda_handler(event, context):\n    return fastjson.dumps(event)\n"
    files = {"lambda_function.py": handler}
    files.update(dist("fastjson", "2.1.0", "cp311-cp311-macosx_11_0_arm64", {
        "fastjson/__init__.py": b"from ._speedups import dumps\n",
        "fastjson/_speedups.cpython-311-darwin.so": fixture("macho/pyext-arm64.so"),
    }))
    files.update(dist("fastio", "0.4.2", "cp311-cp311-manylinux_2_28_x86_64", {
        "fastio/__init__.py": b"from ._io import file_size\n",
        "fastio/_io.abi3.so": fixture("x86_64/libstatx.so"),
    }))
    write_zip("python-built-on-mac.zip", files)

    write_zip("custom-runtime.zip", {"bootstrap": fixture("x86_64/hello-static")}, {"bootstrap": 0o644})


if __name__ == "__main__":
    main()
