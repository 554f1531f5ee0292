#!/usr/bin/env python3
"""Checks that the apps built by build.sh still look the way expected.json and README.md say.

usage: verify.py OUTDIR [sam|cdk|serverless]...      (no app name: every app built in OUTDIR)

For each function and layer of expected.json it reads the build's own template and checks the
logical id, runtime, architecture, layers and code location, that the code location exists, and
that the native files listed are there and are ELF files for the CPU named in their file names.
It judges nothing: that is elfcheck's job. It catches a tool upgrade or an app edit that changes
the layout the tests rely on. The SAM template needs PyYAML (the aws-sam-cli venv has it).
"""

import json
import os
import sys
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
ELF_MACHINE = {62: "x86_64", 183: "aarch64"}
errors = []


def fail(app, what):
    errors.append(f"{app}: {what}")


def elf_machine(data):
    if data[:4] != b"\x7fELF" or len(data) < 20:
        return None
    return ELF_MACHINE.get(int.from_bytes(data[18:20], "little"), "other")


class Code:
    """A function's or layer's files: a folder or a zip."""

    def __init__(self, path):
        self.path = path
        self.zip = zipfile.ZipFile(path) if path.endswith(".zip") and os.path.isfile(path) else None

    def exists(self):
        return self.zip is not None or os.path.isdir(self.path)

    def read(self, name):
        if self.zip is not None:
            return self.zip.read(name)
        with open(os.path.join(self.path, name), "rb") as f:
            return f.read()

    def names(self):
        if self.zip is not None:
            return {n for n in self.zip.namelist() if not n.endswith("/")}
        out = set()
        for d, _, files in os.walk(self.path):
            out.update(os.path.relpath(os.path.join(d, f), self.path) for f in files)
        return out


def check_code(app, root, item):
    code = Code(os.path.join(root, item["code"]))
    if not code.exists():
        fail(app, f"{item['id']}: code {item['code']} is missing")
        return
    natives = set()
    for name in code.names():
        data = code.read(name)[:20]
        if elf_machine(data):
            natives.add(name)
    for name in item.get("native", []):
        if name not in natives:
            fail(app, f"{item['id']}: no ELF file {name} in {item['code']}")
            continue
        want = "aarch64" if "aarch64" in name else "x86_64"
        got = elf_machine(code.read(name)[:20])
        if got != want:
            fail(app, f"{item['id']}: {name} is ELF for {got}, not {want}")
    extra = natives - set(item.get("native", []))
    if extra:
        fail(app, f"{item['id']}: ELF files not in expected.json: {sorted(extra)}")


def compare(app, item, what, got, want):
    if got != want:
        fail(app, f"{item['id']}: {what} is {got!r}, expected {want!r}")


def split_layers(layers):
    local = [l["Ref"] for l in layers if isinstance(l, dict) and "Ref" in l]
    external = [l for l in layers if isinstance(l, str)]
    return local, external


def check_cfn_function(app, root, fn, res, runtime, arch, layers, code_path):
    if fn.get("package_type") == "Image":
        compare(app, fn, "PackageType", res["Properties"].get("PackageType"), "Image")
        return
    compare(app, fn, "Runtime", runtime, fn["runtime"])
    compare(app, fn, "architecture", arch, fn["arch"])
    local, external = split_layers(layers)
    compare(app, fn, "layers", local, fn["layers"])
    compare(app, fn, "external layers", external, fn["external_layers"])
    compare(app, fn, "code", code_path, fn["code"])
    check_code(app, root, fn)


# --- SAM: .aws-sam/build/template.yaml keeps Globals and intrinsics -----------------------------
class Sam:
    def __init__(self, template):
        self.t = template
        self.params = {k: v.get("Default") for k, v in template.get("Parameters", {}).items()}

    def value(self, v):
        """Resolves the intrinsics this app uses: Ref to a parameter, Fn::If, Fn::Equals."""
        if isinstance(v, dict) and len(v) == 1:
            (k, arg), = v.items()
            if k == "Ref" and arg in self.params:
                return self.params[arg]
            if k == "Fn::If":
                cond, yes, no = arg
                return self.value(yes if self.condition(cond) else no)
            if k == "Fn::Equals":
                a, b = arg
                return self.value(a) == self.value(b)
        if isinstance(v, list):
            return [self.value(x) for x in v]
        return v

    def condition(self, name):
        return bool(self.value(self.t["Conditions"][name]))

    def prop(self, res, name):
        props = res.get("Properties", {})
        if name in props:
            return self.value(props[name])
        return self.value(self.t.get("Globals", {}).get("Function", {}).get(name))


def verify_sam(out, app):
    import yaml  # PyYAML: present in the aws-sam-cli venv

    root = os.path.join(out, app["root"])
    with open(os.path.join(root, app["template"])) as f:
        sam = Sam(yaml.safe_load(f))
    resources = sam.t["Resources"]
    for fn in app["functions"]:
        res = resources.get(fn["id"])
        if res is None or res["Type"] != "AWS::Serverless::Function":
            fail("sam", f"{fn['id']}: no AWS::Serverless::Function")
            continue
        arch = (sam.prop(res, "Architectures") or ["x86_64"])[0]
        check_cfn_function("sam", root, fn, res, sam.prop(res, "Runtime"), arch,
                           res["Properties"].get("Layers", []), res["Properties"].get("CodeUri"))
    for layer in app["layers"]:
        res = resources.get(layer["id"])
        if res is None or res["Type"] != "AWS::Serverless::LayerVersion":
            fail("sam", f"{layer['id']}: no AWS::Serverless::LayerVersion")
            continue
        props = res["Properties"]
        compare("sam", layer, "code", props.get("ContentUri"), layer["code"])
        compare("sam", layer, "CompatibleRuntimes", props.get("CompatibleRuntimes"), layer["compatible_runtimes"])
        compare("sam", layer, "CompatibleArchitectures", props.get("CompatibleArchitectures"),
                layer["compatible_architectures"])
        check_code("sam", root, layer)


# --- CDK: cdk.out/<stack>.template.json, code folder in the resource's aws:asset:path -----------
def verify_cdk(out, app):
    root = os.path.join(out, app["root"])
    with open(os.path.join(root, "manifest.json")) as f:
        manifest = json.load(f)
    stacks = [a["properties"]["templateFile"] for a in manifest["artifacts"].values()
              if a["type"] == "aws:cloudformation:stack"]
    compare("cdk", {"id": "manifest.json"}, "stack templates", stacks, [app["template"]])
    with open(os.path.join(root, app["template"])) as f:
        resources = json.load(f)["Resources"]
    for fn in app["functions"]:
        res = resources.get(fn["id"])
        if res is None or res["Type"] != "AWS::Lambda::Function":
            fail("cdk", f"{fn['id']}: no AWS::Lambda::Function")
            continue
        compare("cdk", fn, "aws:cdk:path", res["Metadata"]["aws:cdk:path"], fn["construct_path"])
        props = res["Properties"]
        if fn.get("package_type") == "Image":
            compare("cdk", fn, "asset", res["Metadata"]["aws:asset:path"], fn["code"])
        check_cfn_function("cdk", root, fn, res, props.get("Runtime"),
                           (props.get("Architectures") or ["x86_64"])[0], props.get("Layers", []),
                           res["Metadata"].get("aws:asset:path"))
    for layer in app["layers"]:
        res = resources.get(layer["id"])
        if res is None or res["Type"] != "AWS::Lambda::LayerVersion":
            fail("cdk", f"{layer['id']}: no AWS::Lambda::LayerVersion")
            continue
        props = res["Properties"]
        compare("cdk", layer, "code", res["Metadata"].get("aws:asset:path"), layer["code"])
        compare("cdk", layer, "CompatibleRuntimes", props.get("CompatibleRuntimes"), layer["compatible_runtimes"])
        compare("cdk", layer, "CompatibleArchitectures", props.get("CompatibleArchitectures"),
                layer["compatible_architectures"])
        check_code("cdk", root, layer)


# --- Serverless: .serverless/cloudformation-template-update-stack.json, zip named by S3Key ------
def find_zip(root, s3key):
    """The artifact that `serverless deploy` would upload under this S3 key: same base name."""
    name = s3key.rsplit("/", 1)[-1]
    hits = [os.path.relpath(os.path.join(d, name), root) for d, _, files in os.walk(root) if name in files]
    return hits[0] if len(hits) == 1 else hits


def verify_serverless(out, app):
    root = os.path.join(out, app["root"])
    with open(os.path.join(root, app["template"])) as f:
        resources = json.load(f)["Resources"]
    for fn in app["functions"]:
        res = resources.get(fn["id"])
        if res is None or res["Type"] != "AWS::Lambda::Function":
            fail("serverless", f"{fn['id']}: no AWS::Lambda::Function")
            continue
        props = res["Properties"]
        code = None if fn.get("package_type") == "Image" else find_zip(root, props["Code"]["S3Key"])
        check_cfn_function("serverless", root, fn, res, props.get("Runtime"),
                           (props.get("Architectures") or ["x86_64"])[0], props.get("Layers", []), code)
    for layer in app["layers"]:
        res = resources.get(layer["id"])
        if res is None or res["Type"] != "AWS::Lambda::LayerVersion":
            fail("serverless", f"{layer['id']}: no AWS::Lambda::LayerVersion")
            continue
        props = res["Properties"]
        compare("serverless", layer, "code", find_zip(root, props["Content"]["S3Key"]), layer["code"])
        compare("serverless", layer, "CompatibleRuntimes", props.get("CompatibleRuntimes"),
                layer["compatible_runtimes"])
        compare("serverless", layer, "CompatibleArchitectures", props.get("CompatibleArchitectures"),
                layer["compatible_architectures"])
        check_code("serverless", root, layer)
    for path in app.get("not_deployed", []):
        if not os.path.exists(os.path.join(root, path)):
            fail("serverless", f"{path} (documented as present but not deployed) is missing")


def main(argv):
    if len(argv) < 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    out, wanted = argv[1], argv[2:]
    with open(os.path.join(HERE, "expected.json")) as f:
        expected = json.load(f)
    checked = []
    for app in expected["apps"]:
        name = app["app"]
        if wanted and name not in wanted:
            continue
        if not wanted and not os.path.isdir(os.path.join(out, app["root"])):
            continue
        globals()[f"verify_{name}"](out, app)
        checked.append(name)
    for e in errors:
        print(f"verify.py: {e}", file=sys.stderr)
    print(f"verify.py: {', '.join(checked) or 'nothing'} checked, {len(errors)} differences", file=sys.stderr)
    return 1 if errors or not checked else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
