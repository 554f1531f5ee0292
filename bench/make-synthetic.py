#!/usr/bin/env python3
"""Write the synthetic benchmark zips, byte-for-byte deterministic.

    usage: make-synthetic.py OUTDIR

many-small.zip: 100,000 text files of 100 bytes each (no native code), in
    100 packages x 10 subpackages x 100 modules, with directory entries, as
    `zip -r` would lay them out. It measures the per-entry cost of a scan.
empty.zip: one file, lambda_function.py. It measures the fixed cost
    (process start, runtime table, report).
"""
import os
import sys
import zipfile

FIXED_TIME = (2020, 1, 1, 0, 0, 0)
N_FILES = 100_000
FILE_SIZE = 100

HANDLER = b'''import json


def lambda_handler(event, context):
    return {"statusCode": 200, "body": json.dumps({"ok": True})}
'''


def info(name, is_dir=False):
    zi = zipfile.ZipInfo(name, date_time=FIXED_TIME)
    zi.create_system = 3  # Unix, so the mode bits below are read
    if is_dir:
        zi.external_attr = (0o40755 << 16) | 0x10
        zi.compress_type = zipfile.ZIP_STORED
    else:
        zi.external_attr = 0o100644 << 16
        zi.compress_type = zipfile.ZIP_DEFLATED
    return zi


def body(i):
    text = f"# module {i:06d}\nVALUE = {i}\n"
    pad = FILE_SIZE - len(text) - 1
    return (text + "#" * pad + "\n").encode()


def write_atomic(path, fill):
    tmp = path + ".tmp"
    with zipfile.ZipFile(tmp, "w", compresslevel=6) as z:
        fill(z)
    os.replace(tmp, path)


def many_small(z):
    z.writestr(info("lambda_function.py"), HANDLER)
    i = 0
    for p in range(100):
        z.writestr(info(f"pkg{p:02d}/", is_dir=True), b"")
        for s in range(10):
            z.writestr(info(f"pkg{p:02d}/sub{s}/", is_dir=True), b"")
            for _ in range(N_FILES // 1000):
                z.writestr(info(f"pkg{p:02d}/sub{s}/mod{i:06d}.py"), body(i))
                i += 1
    assert i == N_FILES


def empty(z):
    z.writestr(info("lambda_function.py"), HANDLER)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    write_atomic(os.path.join(out, "many-small.zip"), many_small)
    write_atomic(os.path.join(out, "empty.zip"), empty)


if __name__ == "__main__":
    main()
