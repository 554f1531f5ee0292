#!/usr/bin/env python3
"""Write the benchmark application: a SAM-shaped build of 20 functions sharing 3 layers, made
from the benchmark corpus wheels, byte-for-byte deterministic.

    usage: make-app.py WHEELS OUTDIR

OUTDIR/app/.aws-sam/build/ holds template.yaml, layers/*.zip (python/ trees) and
functions/*.zip (a handler plus the function's own wheels), as `sam build` would leave zips
given as CodeUri / ContentUri. Functions fn17-fn20 are arm64 (their x86_64 wheels are
findings); the rest are x86_64; all python3.12, through Globals and a parameter default.

Also written, for bench/timing.py:
- OUTDIR/app/unique-zips.txt: every zip once (the 3 layers and the 20 functions): the input of
  the floor (zipfloor on each, in turn);
- OUTDIR/app/per-function.sh ELFCHECK: elfcheck once per function with its layers (--layer),
  as a user without application support would run it.
"""
import os
import shlex
import sys
import zipfile

FIXED_TIME = (2020, 1, 1, 0, 0, 0)
RUNTIME = "python3.12"

LAYERS = {
    "NumpyLayer": ["numpy"],
    "DataLayer": ["pandas", "pyarrow", "python_dateutil", "tzdata", "narwhals"],
    "CommonLayer": ["pydantic", "pydantic_core", "annotated_types", "typing_extensions",
                    "typing_inspection", "cryptography", "cffi", "pycparser"],
}

# The function's own wheels, rotating over the rest of the corpus.
OWN = [["pillow"], ["lxml"], ["grpcio"], ["psycopg2_binary"], ["orjson"], ["cloudpickle"]]


def functions():
    out = []
    for i in range(1, 21):
        name = f"fn{i:02d}"
        if i == 1:
            own = ["scipy", "scikit_learn", "joblib", "threadpoolctl"]
        else:
            own = OWN[(i - 2) % len(OWN)]
        layers = ["CommonLayer"]
        if i % 2 == 1:
            layers.insert(0, "NumpyLayer")
        if i % 5 == 0:
            layers.insert(0, "DataLayer")
        arch = "arm64" if i >= 17 else "x86_64"
        out.append((name, own, layers, arch))
    return out


def wheel(wheels, name):
    for f in sorted(os.listdir(wheels)):
        if f.endswith(".whl") and f.lower().startswith(name.lower() + "-"):
            return os.path.join(wheels, f)
    sys.exit(f"make-app: no wheel for {name} in {wheels}")


def info(name, mode=0o644):
    zi = zipfile.ZipInfo(name, date_time=FIXED_TIME)
    zi.create_system = 3
    zi.external_attr = (0o100000 | mode) << 16
    zi.compress_type = zipfile.ZIP_DEFLATED
    return zi


def write_zip(path, wheels, names, prefix, handler):
    tmp = path + ".tmp"
    with zipfile.ZipFile(tmp, "w", compresslevel=6) as out:
        if handler:
            out.writestr(info("app.py"), b"def handler(event, context):\n    return {'ok': True}\n")
        for n in names:
            with zipfile.ZipFile(wheel(wheels, n)) as w:
                for e in sorted(w.infolist(), key=lambda e: e.filename):
                    if e.is_dir():
                        continue
                    mode = (e.external_attr >> 16) & 0o777 or 0o644
                    out.writestr(info(prefix + e.filename, mode), w.read(e))
    os.replace(tmp, path)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    wheels, out = sys.argv[1], sys.argv[2]
    app = os.path.join(out, "app")
    build = os.path.join(app, ".aws-sam", "build")
    os.makedirs(os.path.join(build, "layers"), exist_ok=True)
    os.makedirs(os.path.join(build, "functions"), exist_ok=True)
    zips = []
    for layer, names in LAYERS.items():
        path = os.path.join(build, "layers", layer + ".zip")
        write_zip(path, wheels, names, "python/", handler=False)
        zips.append(path)
    fns = functions()
    for name, own, _, _ in fns:
        path = os.path.join(build, "functions", name + ".zip")
        write_zip(path, wheels, own, "", handler=True)
        zips.append(path)

    t = ["AWSTemplateFormatVersion: '2010-09-09'",
         "Transform: AWS::Serverless-2016-10-31",
         "Parameters:",
         "  PythonRuntime:",
         "    Type: String",
         f"    Default: {RUNTIME}",
         "Globals:",
         "  Function:",
         "    Runtime:",
         "      Ref: PythonRuntime",
         "    Handler: app.handler",
         "Resources:"]
    for layer in LAYERS:
        t += [f"  {layer}:",
              "    Type: AWS::Serverless::LayerVersion",
              "    Properties:",
              f"      ContentUri: layers/{layer}.zip",
              f"      CompatibleRuntimes: [{RUNTIME}]",
              "    Metadata:",
              f"      SamResourceId: {layer}"]
    for name, _, layers, arch in fns:
        t += [f"  {name}:",
              "    Type: AWS::Serverless::Function",
              "    Properties:",
              f"      CodeUri: functions/{name}.zip",
              f"      Architectures: [{arch}]",
              "      Layers:"]
        t += [f"      - Ref: {layer}" for layer in layers]
        t += ["    Metadata:", f"      SamResourceId: {name}"]
    with open(os.path.join(build, "template.yaml"), "w") as f:
        f.write("\n".join(t) + "\n")

    with open(os.path.join(app, "unique-zips.txt"), "w") as f:
        f.write("\n".join(zips) + "\n")
    lines = ["#!/bin/sh",
             "# elfcheck once per function, with its layers: what a user without application",
             "# support runs. Exit 1 (findings) is expected; anything else stops.",
             'E="$1"',
             "run() { \"$E\" check --offline --format json \"$@\" >/dev/null; rc=$?; [ $rc -le 1 ] || exit $rc; }"]
    for name, _, layers, arch in fns:
        args = ["--runtime", RUNTIME, "--arch", arch]
        for layer in layers:
            args += ["--layer", os.path.join(build, "layers", layer + ".zip")]
        args.append(os.path.join(build, "functions", name + ".zip"))
        lines.append("run " + " ".join(shlex.quote(a) for a in args))
    lines.append("exit 0")
    path = os.path.join(app, "per-function.sh")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    os.chmod(path, 0o755)
    total = sum(os.path.getsize(z) for z in zips)
    unzipped = 0
    for z in zips:
        with zipfile.ZipFile(z) as zf:
            unzipped += sum(i.file_size for i in zf.infolist())
    print(f"app: {len(fns)} functions, {len(LAYERS)} layers, {len(zips)} zips, "
          f"zip_bytes={total} unzipped_bytes={unzipped}")


if __name__ == "__main__":
    main()
