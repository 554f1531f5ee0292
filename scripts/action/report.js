#!/usr/bin/env node
// The GitHub Action's converter: reads the JSON report of the Action's one elfcheck run and
// writes what the Action shows:
//   - a workflow annotation per finding on stdout (as `elfcheck --format github` would print),
//   - a Markdown table (errors, warnings, infos per input) appended to $GITHUB_STEP_SUMMARY,
//   - the outputs `errors`, `warnings`, `infos` and `sarif-file` appended to $GITHUB_OUTPUT.
// usage: node report.js REPORT.json   (env: GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, SARIF_FILE,
// FAIL_ON, EXIT_CODE: elfcheck's exit code, shown in the summary)
"use strict";

const fs = require("fs");

const report = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
if (report.version !== 1) {
  process.stderr.write(`elfcheck action: unknown JSON report version ${report.version}\n`);
  process.exit(2);
}

// Workflow-command escaping: data escapes %, CR, LF; properties also : and ,.
const esc = (s, property) => {
  let out = String(s).replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
  if (property) out = out.replace(/:/g, "%3A").replace(/,/g, "%2C");
  return out;
};
const LEVEL = { error: "error", warning: "warning", info: "notice" };

for (const f of report.findings) {
  const location = f.path ? `${f.input}!/${f.path}` : f.input;
  let text = f.message;
  if (f.runtime_error) text += `\non Lambda: ${f.runtime_error}`;
  if (f.fix) text += `\nfix: ${f.fix}`;
  const level = LEVEL[f.severity] || "warning";
  process.stdout.write(`::${level} file=${esc(f.input, true)},title=${esc(`${f.code} ${location}`, true)}::${esc(text, false)}\n`);
}

// Per input: counts by severity, in the report's order.
const md = (s) => String(s).replace(/\|/g, "\\|").replace(/\n/g, " ");
const rows = report.inputs.map((input) => {
  const mine = report.findings.filter((f) => f.input === input.input);
  const count = (sev) => mine.filter((f) => f.severity === sev).length;
  const t = input.target || {};
  const target = [t.runtime, t.arch].filter(Boolean).join(", ");
  return `| \`${md(input.input)}\` | ${md(target)} | ${count("error")} | ${count("warning")} | ${count("info")} |`;
});
const s = report.summary;
const failed = process.env.EXIT_CODE && process.env.EXIT_CODE !== "0";
const lines = [
  `### elfcheck ${report.tool.version}: ${s.errors} errors, ${s.warnings} warnings, ${s.infos} infos` +
    ` in ${s.inputs} input${s.inputs === 1 ? "" : "s"} (${s.binaries} native binaries)`,
  "",
  "| input | target | errors | warnings | infos |",
  "|---|---|---:|---:|---:|",
  ...rows,
  "",
  failed
    ? `Failed: findings at or above \`${process.env.FAIL_ON || "error"}\`. \`elfcheck explain CODE\` explains a finding.`
    : `Passed: nothing at or above \`${process.env.FAIL_ON || "error"}\`.`,
  "",
];
if (process.env.GITHUB_STEP_SUMMARY) fs.appendFileSync(process.env.GITHUB_STEP_SUMMARY, lines.join("\n") + "\n");

if (process.env.GITHUB_OUTPUT) {
  const out = [`errors=${s.errors}`, `warnings=${s.warnings}`, `infos=${s.infos}`];
  out.push(`sarif-file=${process.env.SARIF_FILE || ""}`);
  fs.appendFileSync(process.env.GITHUB_OUTPUT, out.join("\n") + "\n");
}
