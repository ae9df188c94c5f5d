// Validates an AsyncAPI document with the official parser; exits 1 on any error diagnostic.
// Usage: node validate.mjs FILE
import { readFile } from "node:fs/promises";
import { Parser, DiagnosticSeverity } from "@asyncapi/parser";

const SEVERITY = { 0: "error", 1: "warning", 2: "info", 3: "hint" };

const file = process.argv[2];
if (!file) {
  console.error("usage: node validate.mjs FILE");
  process.exit(2);
}
const text = await readFile(file, "utf8");
// No resolver may reach the network: every $ref of the document is internal.
const parser = new Parser();
const diagnostics = await parser.validate(text, { source: file });
let errors = 0;
for (const d of diagnostics) {
  const where = d.path && d.path.length ? d.path.join("/") : "(document)";
  const severity = SEVERITY[d.severity] ?? String(d.severity);
  if (d.severity === DiagnosticSeverity.Error) errors += 1;
  console.log(`${severity}: ${d.code}: ${d.message} at ${where}`);
}
if (errors) {
  console.log(`${file}: ${errors} error(s)`);
  process.exit(1);
}
console.log(`${file}: valid AsyncAPI ${JSON.parse(text).asyncapi ?? "?"}`);
