// Prints the gzip-compressed size of the built JavaScript and fails the build
// above the budget (issue: under 60 KiB of JavaScript, gzip-compressed).
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

const BUDGET_BYTES = 60 * 1024;
const out = process.env.PARLEY_WEB_OUT || 'dist';
const assets = path.join(out, 'assets');
let raw = 0;
let gzip = 0;
for (const name of fs.readdirSync(assets)) {
  if (!name.endsWith('.js')) continue;
  const bytes = fs.readFileSync(path.join(assets, name));
  raw += bytes.length;
  gzip += zlib.gzipSync(bytes, { level: 9 }).length;
}
const kib = (n) => (n / 1024).toFixed(1);
console.log(`web bundle: ${kib(raw)} KiB JavaScript, ${kib(gzip)} KiB gzip (budget ${kib(BUDGET_BYTES)} KiB)`);
if (gzip > BUDGET_BYTES) {
  console.error('web bundle: over budget');
  process.exit(1);
}
