#!/usr/bin/env bash
# MSRV check: the `rust-version` in Cargo.toml is the truth for the locked dependencies.
#   1. it is not below the highest `rust-version` any locked package declares (cargo refuses to
#      build such a package on an older rustc, so a lower declaration would be a lie);
#   2. `cargo check --locked --all-targets` passes with exactly that toolchain (installed with
#      rustup, minimal profile; about 10 s the first time).
# When 1. finds the code's own needs higher than every dependency's, it says so: Cargo.toml is
# then the only record of why (let chains need 1.88 with edition 2024).
set -euo pipefail
cd "$(dirname "$0")/../.."

declared=$(sed -n 's/^rust-version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
[ -n "$declared" ] || { echo "msrv: no rust-version in Cargo.toml" >&2; exit 1; }
echo "Cargo.toml: rust-version = $declared"

cargo metadata --locked --format-version 1 | DECLARED=$declared python3 -c '
import json, os, sys
def key(v): return tuple(int(x) for x in v.split("."))
declared = os.environ["DECLARED"]
meta = json.load(sys.stdin)
own = {p["id"] for p in meta["packages"] if p["id"] in meta["workspace_members"]}
deps = [(p["rust_version"], p["name"], p["version"]) for p in meta["packages"]
        if p["id"] not in own and p.get("rust_version")]
top = max(key(v) for v, _, _ in deps)
needers = ", ".join(f"{n} {ver}" for v, n, ver in sorted(deps) if key(v) == top)
print(f"highest rust-version among {len(deps)} locked dependencies: {'"'"'.'"'"'.join(map(str, top))} ({needers})")
if key(declared) < top:
    sys.exit(f"msrv: Cargo.toml declares {declared}, below what {needers} need")
if key(declared) > top:
    print(f"note: {declared} is above every dependency: the code itself needs it")
'

toolchain=$declared
rustup toolchain list | grep -q "^$toolchain" || rustup toolchain install "$toolchain" --profile minimal
cargo "+$toolchain" --version
cargo "+$toolchain" check --locked --all-targets --target-dir target/msrv
echo "msrv: builds with Rust $toolchain"
