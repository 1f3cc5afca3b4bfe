// Runs the client's unit tests (web/test/*.test.mjs, node:test) against the
// pure modules of src/ (state.ts: no DOM, no socket), compiled by tsc into a
// temporary directory that mirrors web/: the tests import ../src/state.js as
// they would beside the compiled source. Nothing is written into web/, and
// the Vite build is untouched. Arguments go to node --test (a reporter).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const web = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PURE = ['src/state.ts'];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-web-unit-'));
let status = 1;
try {
  const tsc = spawnSync(path.join(web, 'node_modules', '.bin', 'tsc'), [
    ...PURE.map((f) => path.join(web, f)),
    '--outDir', path.join(tmp, 'src'), '--rootDir', path.join(web, 'src'),
    '--target', 'es2022', '--module', 'es2022', '--moduleResolution', 'bundler',
    '--strict', '--skipLibCheck', '--noUnusedLocals',
  ], { stdio: 'inherit' });
  if (tsc.status !== 0) throw new Error('tsc failed on the pure modules');
  fs.writeFileSync(path.join(tmp, 'package.json'), '{"type":"module"}\n');
  fs.cpSync(path.join(web, 'test'), path.join(tmp, 'test'), { recursive: true });
  const tests = fs.readdirSync(path.join(tmp, 'test')).filter((f) => f.endsWith('.test.mjs')).map((f) => path.join(tmp, 'test', f));
  const run = spawnSync(process.execPath, ['--test', ...process.argv.slice(2), ...tests], { stdio: 'inherit' });
  status = run.status ?? 1;
} catch (e) {
  console.error(e.message);
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
process.exit(status);
