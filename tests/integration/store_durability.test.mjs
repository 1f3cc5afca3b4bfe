// The durability settings a 201 and an {ok:true} ack stand on: the database
// is in WAL mode (the file header says so, and the sqlite3 CLI agrees), and
// by default (synchronous=FULL) every acknowledgement leaves the server only
// after the WAL has been synced to disk. PRAGMA synchronous belongs to a
// connection and the server does not log it, so it is observed from outside:
// strace, attached to the running server, records the fdatasync/fsync calls
// on the -wal file and the writes of each 201 response and ok ack, in order.
// The same check with SQLITE_SYNCHRONOUS=normal sees the acks go out with no
// WAL sync at all, so it tells the two modes apart.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { startServer, newUser, makeTempDir, waitFor } from './lib/server.mjs';
import { send as httpSend } from './lib/messages.mjs';
import { connect, closeAll, sessionsDrained } from './lib/chat.mjs';

const SENDS = 10; // per path: HTTP, then the socket

const servers = [];
after(async () => {
  closeAll();
  for (const s of servers) if (s.proc.exitCode === null && s.proc.signalCode === null) await s.stop();
});

/** Bytes 18 and 19 of the SQLite header: the file format versions, 2 and 2 for WAL. */
function headerVersions(db) {
  const fd = fs.openSync(db, 'r');
  try {
    const buf = Buffer.alloc(100);
    assert.equal(fs.readSync(fd, buf, 0, 100, 0), 100, 'a full database header');
    assert.equal(buf.subarray(0, 16).toString('latin1'), 'SQLite format 3\0');
    return [buf[18], buf[19]];
  } finally {
    fs.closeSync(fd);
  }
}

function cliJournalMode(db) {
  const r = spawnSync('sqlite3', ['-readonly', db, 'PRAGMA journal_mode;'], { encoding: 'utf8', timeout: 30_000 });
  if (r.error) throw new Error(`sqlite3 CLI: ${r.error.message} (scripts/install-deps.sh --test installs it)`);
  assert.equal(r.status, 0, `sqlite3 exited ${r.status}: ${r.stderr}`);
  return r.stdout.trim();
}

/**
 * Attaches strace to every thread of the server, runs `fn`, detaches, and
 * returns the trace lines. Resolves {skip} when this machine does not let a
 * process trace another (ptrace refused), which is not a result about parleyd.
 */
async function traced(srv, fn) {
  const out = path.join(makeTempDir('parley-strace-'), 'trace');
  const tasks = fs.readdirSync(`/proc/${srv.pid}/task`);
  const st = spawn('strace', ['-f', '-qq', '-y', '-s', '160', '-e', 'trace=fsync,fdatasync,sendmsg,sendto,write,writev',
    '-o', out, '-p', String(srv.pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  st.stderr.setEncoding('utf8');
  st.stderr.on('data', (d) => { stderr += d; });
  const spawnError = new Promise((resolve) => st.once('error', resolve));
  const exited = new Promise((resolve) => st.once('exit', (code, signal) => resolve({ code, signal })));
  let ended = null;
  spawnError.then((e) => { ended = { error: e }; });
  exited.then((r) => { ended ??= r; });
  const tracerOf = (tid) => {
    try {
      return Number(fs.readFileSync(`/proc/${srv.pid}/task/${tid}/status`, 'utf8').match(/TracerPid:\s*(\d+)/)[1]);
    } catch {
      return -1; // the thread has ended
    }
  };
  await waitFor(() => ended || tasks.every((tid) => tracerOf(tid) !== 0), { timeoutMs: 10_000, intervalMs: 10, what: 'strace to attach' });
  if (ended) {
    if (ended.error) assert.fail(`cannot run strace: ${ended.error.message} (scripts/install-deps.sh --test installs it)`);
    if (/not permitted/i.test(stderr)) return { skip: `ptrace is not permitted here: ${stderr.trim()}` };
    assert.fail(`strace ended before attaching (${JSON.stringify(ended)}): ${stderr}`);
  }
  try {
    await fn();
  } finally {
    st.kill('SIGINT'); // detaches; the server runs on
    await exited;
  }
  return { lines: fs.readFileSync(out, 'utf8').split('\n').filter((l) => l.length > 0) };
}

/**
 * Walks the trace in order: a WAL sync counts when it completes, an ack when
 * its write starts. Returns [{kind: 'sync'} | {kind: 'ack', id, what}].
 */
function timeline(lines) {
  const pending = new Map(); // pid -> the WAL sync it started
  const out = [];
  for (const line of lines) {
    const m = line.match(/^(\d+)\s+(.*)$/);
    if (!m) continue;
    const [, pid, rest] = m;
    if (/^(fsync|fdatasync)\(\d+<[^>]*parley\.db-wal>/.test(rest)) {
      if (rest.includes('<unfinished ...>')) pending.set(pid, true);
      else if (/= 0$/.test(rest)) out.push({ kind: 'sync' });
      continue;
    }
    if (/^<\.\.\. (fsync|fdatasync) resumed>/.test(rest)) {
      if (pending.get(pid) && /= 0$/.test(rest)) out.push({ kind: 'sync' });
      pending.delete(pid);
      continue;
    }
    if (/^(sendmsg|sendto|write|writev)\(/.test(rest)) {
      const http = rest.match(/HTTP\/1\.1 201 Created/);
      const ack = rest.match(/43\d+\[\{\\"ok\\":true,\\"message\\":\{\\"_id\\":\\"([0-9a-f]{24})/);
      if (ack) out.push({ kind: 'ack', id: ack[1], what: 'socket ack' });
      else if (http) {
        const id = rest.match(/\{\\"_id\\":\\"([0-9a-f]{24})/);
        out.push({ kind: 'ack', id: id ? id[1] : null, what: 'HTTP 201' });
      }
    }
  }
  return out;
}

/** Sends SENDS messages over HTTP and SENDS over a WebSocket, one after another, under strace. */
async function tracedSends(t, env) {
  const srv = await startServer({ env: { RATE_LIMIT_DISABLED: '1', ...env } });
  servers.push(srv);
  const a = await newUser(srv.url, { name: 'Durable A' });
  const b = await newUser(srv.url, { name: 'Durable B' });
  const ca = await connect(srv.url, a, { label: 'A', transports: ['websocket'] });
  const ids = [];
  const result = await traced(srv, async () => {
    for (let i = 0; i < SENDS; i += 1) {
      const res = await httpSend(srv.url, a, b, `http ${i}`);
      assert.equal(res.status, 201, res.text);
      ids.push(res.body._id);
    }
    for (let i = 0; i < SENDS; i += 1) ids.push((await ca.send(b, `socket ${i}`))._id);
  });
  ca.close();
  await sessionsDrained(srv.url);
  if (result.skip) {
    assert.equal(await srv.stop(), 0);
    t.skip(result.skip);
    return null;
  }
  const events = timeline(result.lines);
  const acks = events.filter((e) => e.kind === 'ack');
  // Every send's acknowledgement was seen, in order.
  assert.deepEqual(acks.map((e) => e.id), ids, `acknowledgements in the trace: ${JSON.stringify(acks)}`);
  // WAL syncs completed between the previous acknowledgement and each one.
  const syncsBefore = [];
  let n = 0;
  for (const e of events) {
    if (e.kind === 'sync') n += 1;
    else { syncsBefore.push(n); n = 0; }
  }
  return { srv, syncsBefore, total: events.filter((e) => e.kind === 'sync').length };
}

test('the database is in WAL mode, in the file itself, while running and after a stop', async () => {
  const srv = await startServer({ env: { RATE_LIMIT_DISABLED: '1' } });
  servers.push(srv);
  const a = await newUser(srv.url, { name: 'Wal A' });
  const b = await newUser(srv.url, { name: 'Wal B' });
  assert.equal((await httpSend(srv.url, a, b, 'hello')).status, 201);
  const db = path.join(srv.dir, 'parley.db');
  assert.deepEqual(headerVersions(db), [2, 2], 'header file format versions (2 = WAL)');
  assert.ok(fs.existsSync(`${db}-wal`), 'a -wal file beside the database');
  assert.equal(cliJournalMode(db), 'wal');
  assert.equal(await srv.stop(), 0);
  assert.deepEqual(headerVersions(db), [2, 2]);
  assert.equal(cliJournalMode(db), 'wal');
});

test('by default every 201 and every ok ack is written only after a WAL sync (synchronous=FULL)', { timeout: 60_000 }, async (t) => {
  const r = await tracedSends(t, {});
  if (!r) return;
  t.diagnostic(`${r.total} WAL syncs for ${2 * SENDS} sends; per ack: ${r.syncsBefore.join(',')}`);
  r.syncsBefore.forEach((n, i) => assert.ok(n >= 1, `acknowledgement ${i + 1} of ${2 * SENDS} went out with no WAL sync since the previous one`));
  assert.equal(await r.srv.stop(), 0);
});

test('the same check with SQLITE_SYNCHRONOUS=normal sees no WAL sync at all (the check tells the modes apart)', { timeout: 60_000 }, async (t) => {
  const r = await tracedSends(t, { SQLITE_SYNCHRONOUS: 'normal' });
  if (!r) return;
  assert.equal(r.total, 0, `WAL syncs with synchronous=normal: ${r.syncsBefore.join(',')}`);
  assert.equal(await r.srv.stop(), 0);
});
