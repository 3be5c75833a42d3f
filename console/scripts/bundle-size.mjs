// The first screen's JavaScript: the entry script of dist/index.html and every chunk it imports
// statically (transitively), gzip-compressed. Fails above the budget (issue 9: 350 kB).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

const BUDGET = 350 * 1024;
const dist = new URL("../dist/", import.meta.url).pathname;
const html = readFileSync(join(dist, "index.html"), "utf8");
const entry = /<script type="module"[^>]*src="\/([^"]+)"/.exec(html)?.[1];
if (!entry) throw new Error("no entry script in dist/index.html");

const seen = new Set();
const queue = [entry];
while (queue.length) {
  const file = queue.pop();
  if (seen.has(file)) continue;
  seen.add(file);
  const code = readFileSync(join(dist, file), "utf8");
  for (const m of code.matchAll(/(?:import|export)\s*(?:[\w${},\s*]+from\s*)?"\.\/([^"]+\.js)"/g)) {
    queue.push(join(file, "..", m[1]));
  }
}
let total = 0;
const rows = [...seen].map((f) => {
  const gz = gzipSync(readFileSync(join(dist, f))).length;
  total += gz;
  return `${(gz / 1024).toFixed(1).padStart(8)} kB  ${f}`;
});
console.log(rows.sort().reverse().join("\n"));
console.log(`initial JavaScript: ${(total / 1024).toFixed(1)} kB gzip (budget ${BUDGET / 1024} kB)`);
if (total > BUDGET) {
  console.error("over budget: move code behind a lazy import or into a vendor chunk that the first screen does not load");
  process.exit(1);
}
