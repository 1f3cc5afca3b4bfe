// parley-bench, the load generator, against the real parleyd: each mode's
// JSON holds what the server really did (checked in the database and in
// /metrics), and a run that meets refusals or cannot connect fails with
// exit status 1 instead of reporting numbers.
// The binary: $PARLEY_BENCH (ctest sets it), else the one in the build
// tree of the parleyd under test.

import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { PARLEYD, startServer, freePort, waitFor } from './lib/server.mjs';
import { sessionsDrained } from './lib/chat.mjs';

const PARLEY_BENCH = process.env.PARLEY_BENCH
  || path.resolve(path.dirname(PARLEYD), '..', '..', 'bench', 'parley-bench', 'parley-bench');
const RUN_DEADLINE_MS = 60_000;

const servers = [];
after(async () => {
  for (const s of servers) if (s.running) assert.equal(await s.stop(), 0);
});

async function server(env = {}) {
  const s = await startServer({ env: { BCRYPT_ROUNDS: '4', RATE_LIMIT_DISABLED: '1', ...env } });
  servers.push(s);
  return s;
}

/**
 * Runs parley-bench to its exit; resolves {code, signal, stdout, stderr,
 * result} where result is the JSON object on stdout (asserted to be exactly
 * one line holding one object) or null when stdout is empty or `json` is
 * false. `onRunning` is called with the child while it runs.
 */
function runBench(args, { onRunning, json = true } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(PARLEY_BENCH, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => {
      try { process.kill(child.pid, 'SIGKILL'); } catch { /* gone */ }
    }, RUN_DEADLINE_MS);
    child.once('error', (e) => { clearTimeout(timer); reject(new Error(`cannot run ${PARLEY_BENCH}: ${e.message}`)); });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      let result = null;
      if (json && stdout.length > 0) {
        const lines = stdout.trimEnd().split('\n');
        assert.equal(lines.length, 1, `one line on stdout, got:\n${stdout}`);
        result = JSON.parse(lines[0]);
        assert.equal(typeof result, 'object');
      }
      resolve({ code, signal, stdout, stderr, result });
    });
    if (onRunning) Promise.resolve(onRunning(child)).catch(reject);
  });
}

function sql(srv, query) {
  const r = spawnSync('sqlite3', ['-cmd', '.timeout 5000', `${srv.dir}/parley.db`, query], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

async function metric(srv, name) {
  const res = await fetch(`${srv.url}/metrics`);
  const text = await res.text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line === undefined ? null : Number(line.slice(line.lastIndexOf(' ') + 1));
}

function assertPercentiles(lat, what) {
  assert.ok(lat, `${what} present`);
  assert.ok(lat.count > 0, `${what}: samples`);
  const order = ['p50', 'p90', 'p99', 'p999', 'max'];
  for (const k of order) assert.equal(typeof lat[k], 'number', `${what}.${k}`);
  assert.ok(lat.p50 > 0, `${what}.p50 > 0`);
  for (let i = 1; i < order.length; i++) {
    assert.ok(lat[order[i - 1]] <= lat[order[i]], `${what}: ${order[i - 1]} ${lat[order[i - 1]]} <= ${order[i]} ${lat[order[i]]}`);
  }
}

describe('parley-bench', () => {
  test('pairs: every acked message is stored once and received once, with latencies and CPU', async () => {
    const srv = await server();
    const run = await runBench(['pairs', '--url', srv.url, '--pairs', '4', '--window', '4', '--duration', '2',
      '--warmup', '0.5', '--server-pid', String(srv.pid)]);
    assert.equal(run.code, 0, `exit status; stderr:\n${run.stderr}\nstdout:\n${run.stdout}`);
    const r = run.result;
    assert.equal(r.mode, 'pairs');
    assert.equal(r.ok, true);
    assert.equal(r.pairs, 4);
    assert.equal(r.window, 4);
    assert.ok(r.acked > 0, 'acked in the measured interval');
    assert.ok(r.received > 0, 'received in the measured interval');
    assert.ok(r.sent >= r.acked - 16, 'acks follow sends (at most a window per sender from before)');
    assert.ok(r.duration_s >= 2 && r.duration_s < 3, `duration ${r.duration_s}`);
    // (The JSON has three decimals: the interval is rounded to the millisecond.)
    assert.ok(Math.abs(r.acked_per_s - r.acked / r.duration_s) <= r.acked_per_s / 1000 + 1, 'rate = count / interval');
    assert.equal(r.lost, 0);
    assert.equal(r.duplicated, 0);
    assertPercentiles(r.ack_latency_ms, 'ack_latency_ms');
    assertPercentiles(r.receipt_latency_ms, 'receipt_latency_ms');
    assert.ok(r.connect_s > 0);
    assert.deepEqual(r.failures, []);
    assert.equal(r.error_count, 0);
    // Everything sent was acked ok and received, warmup and drain included.
    assert.equal(r.totals.unacked, 0);
    assert.equal(r.totals.refused, 0);
    assert.equal(r.totals.drained, true);
    assert.ok(r.totals.acked >= r.acked);
    assert.equal(r.totals.received, r.totals.acked);
    assert.equal(r.server.pid, srv.pid);
    assert.ok(r.server.cpu_us_per_msg > 0, 'server CPU per message');
    assert.ok(r.server.rss_kib_before > 0 && r.server.rss_kib_after > 0, 'server RSS');
    assert.ok(r.generator.cpu_us_per_msg > 0, 'generator CPU per message');
    // A progress line about once a second.
    assert.match(run.stderr, /measure +sent +\d+\/s +acked +\d+\/s/);

    // What the server holds: one row per acked message, 4 conversations,
    // each delivered (its receiver acked it) up to its last message.
    assert.equal(Number(sql(srv, 'SELECT COUNT(*) FROM messages;')), r.totals.acked);
    assert.equal(Number(sql(srv, 'SELECT COUNT(*) FROM conversations;')), 4);
    assert.equal(Number(sql(srv, 'SELECT SUM(last_seq) FROM conversations;')), r.totals.acked);
    await waitFor(() => Number(sql(srv, `SELECT COUNT(*) FROM conversations c WHERE NOT EXISTS (
        SELECT 1 FROM conversation_members m WHERE m.conversation_id = c.id AND m.delivered_seq = c.last_seq);`)) === 0,
    { what: 'every conversation delivered up to its last message' });
    await sessionsDrained(srv.url);
    assert.equal(await metric(srv, 'parley_http_requests_total{route="(upgrade)",status="101"}'), 8);
  });

  test('group: every acked message reaches every other member once, with receipts and CPU per delivery', async () => {
    const srv = await server();
    const members = 12;
    const run = await runBench(['group', '--url', srv.url, '--members', String(members), '--senders', '2',
      '--window', '4', '--duration', '1', '--warmup', '0.5', '--server-pid', String(srv.pid)]);
    assert.equal(run.code, 0, `exit status; stderr:\n${run.stderr}\nstdout:\n${run.stdout}`);
    const r = run.result;
    assert.equal(r.mode, 'group');
    assert.equal(r.ok, true);
    assert.equal(r.members, members);
    assert.equal(r.senders, 2);
    assert.equal(r.window, 4);
    assert.ok(r.acked > 0, 'acked in the measured interval');
    assert.ok(r.deliveries > 0, 'deliveries in the measured interval');
    assert.ok(r.receipts > 0, 'receipts in the measured interval');
    assert.ok(Math.abs(r.deliveries_per_s - r.deliveries / r.duration_s) <= r.deliveries_per_s / 1000 + 1,
      'rate = count / interval');
    assert.equal(r.lost, 0);
    assert.equal(r.duplicated, 0);
    assertPercentiles(r.ack_latency_ms, 'ack_latency_ms');
    assertPercentiles(r.delivery_latency_ms, 'delivery_latency_ms');
    assert.deepEqual(r.failures, []);
    assert.equal(r.error_count, 0);
    // After the drain: each acked message at each of the other 11 members,
    // and one message:delivered per delivery back at its sender.
    const t = r.totals;
    assert.equal(t.drained, true);
    assert.equal(t.unacked, 0);
    assert.equal(t.refused, 0);
    assert.equal(t.unexpected, 0);
    assert.equal(t.expected_deliveries, t.acked * (members - 1));
    assert.equal(t.deliveries, t.acked * (members - 1));
    assert.equal(t.receipts, t.acked * (members - 1));
    assert.ok(r.server.cpu_us_per_msg > 0, 'server CPU per message');
    assert.ok(r.server.cpu_us_per_delivery > 0, 'server CPU per delivery');
    assert.ok(r.server.cpu_us_per_delivery < r.server.cpu_us_per_msg, 'a message has several deliveries');
    assert.match(run.stderr, /measure +sent +\d+\/s +acked +\d+\/s +deliveries +\d+\/s/);

    // What the server holds: one group of 12, one row per acked message,
    // and every member who did not send delivered up to the last message.
    assert.equal(sql(srv, "SELECT COUNT(*) FROM conversations WHERE type = 'group';"), '1');
    assert.equal(Number(sql(srv, 'SELECT COUNT(*) FROM conversation_members;')), members);
    assert.equal(Number(sql(srv, 'SELECT COUNT(*) FROM messages;')), t.acked);
    assert.equal(Number(sql(srv, 'SELECT COUNT(DISTINCT sender_id) FROM messages;')), 2);
    assert.equal(Number(sql(srv, 'SELECT last_seq FROM conversations;')), t.acked);
    await waitFor(() => Number(sql(srv, `SELECT COUNT(*) FROM conversation_members m JOIN conversations c
        ON c.id = m.conversation_id WHERE m.delivered_seq = c.last_seq
        AND m.user_id NOT IN (SELECT sender_id FROM messages);`)) === members - 2,
    { what: 'every member who did not send delivered up to the last message' });
    await sessionsDrained(srv.url);
  });

  test('group fails, saying why, when the group is larger than the server allows', async () => {
    const srv = await server({ MAX_GROUP_MEMBERS: '5' });
    const run = await runBench(['group', '--url', srv.url, '--members', '6', '--senders', '1', '--no-progress']);
    assert.equal(run.code, 1, `exit status; stdout:\n${run.stdout}`);
    assert.equal(run.result.ok, false);
    assert.match(run.result.error, /creating the group of 6 members: HTTP 400/);
    assert.equal(sql(srv, 'SELECT COUNT(*) FROM conversations;'), '0');
  });

  test('idle: 50 sockets over 10 users stay connected for the hold, then close', async () => {
    const srv = await server();
    let seenDuringHold = null;
    const run = await runBench(['idle', '--url', srv.url, '--sockets', '50', '--users', '10', '--hold', '3',
      '--settle', '0.2', '--server-pid', String(srv.pid)], {
      onRunning: async () => {
        seenDuringHold = await waitFor(async () => ((await metric(srv, 'parley_eio_sessions')) === 50 ? 50 : null),
          { timeoutMs: 20_000, what: '50 Engine.IO sessions on the server' });
      },
    });
    assert.equal(run.code, 0, `exit status; stderr:\n${run.stderr}\nstdout:\n${run.stdout}`);
    assert.equal(seenDuringHold, 50);
    const r = run.result;
    assert.equal(r.mode, 'idle');
    assert.equal(r.ok, true);
    assert.equal(r.sockets, 50);
    assert.equal(r.users, 10);
    assert.equal(r.connected, 50);
    assert.equal(r.connect_failed, 0);
    assert.equal(r.dropped, 0);
    assert.ok(r.connect_per_s > 0);
    assert.ok(r.server.rss_kib_before > 0 && r.server.rss_kib_after > 0, 'server RSS');
    assert.equal(typeof r.server.rss_bytes_per_socket, 'number');
    assert.equal(Number(sql(srv, 'SELECT COUNT(*) FROM users;')), 10);
    await sessionsDrained(srv.url);
  });

  test('pairs fails when the server refuses sends (message rate limit on)', async () => {
    const srv = await server({ RATE_LIMIT_DISABLED: undefined, RATE_LIMIT_MESSAGES_PER_SEC: '5', RATE_LIMIT_MESSAGES_BURST: '5' });
    const run = await runBench(['pairs', '--url', srv.url, '--pairs', '2', '--window', '4', '--duration', '1',
      '--warmup', '0', '--no-progress']);
    assert.equal(run.code, 1, `exit status; stdout:\n${run.stdout}`);
    const r = run.result;
    assert.equal(r.ok, false);
    assert.ok(r.totals.refused > 0, 'refused sends counted');
    assert.ok(r.failures.some((f) => /sends refused/.test(f)), JSON.stringify(r.failures));
    assert.match(r.errors[0], /message:send refused: .*rate_limited/);
    await sessionsDrained(srv.url);
  });

  test('no server: exit status 1 with the reason in the JSON', async () => {
    const port = await freePort();
    const run = await runBench(['pairs', '--url', `http://127.0.0.1:${port}`, '--pairs', '1', '--no-progress']);
    assert.equal(run.code, 1);
    assert.equal(run.result.ok, false);
    assert.match(run.result.error, /connect/);
  });

  test('bad usage: exit status 2, nothing on stdout; --help documents every mode', async () => {
    const bad = await runBench(['pairs', '--window', '0']);
    assert.equal(bad.code, 2);
    assert.equal(bad.stdout, '');
    assert.match(bad.stderr, /--window/);
    for (const args of [['group', '--members', '4', '--senders', '5'], ['group', '--members', '1'],
      ['group', '--senders', '0']]) {
      const badGroup = await runBench(args);
      assert.equal(badGroup.code, 2, args.join(' '));
      assert.equal(badGroup.stdout, '');
      assert.match(badGroup.stderr, /--(members|senders)/);
    }
    const help = await runBench(['--help'], { json: false });
    assert.equal(help.code, 0);
    for (const word of ['pairs', 'group', 'idle', 'http', '--server-pid', '--source-ips', '--window', '--members',
      '--senders', 'MAX_GROUP_MEMBERS', '--sockets', '--kind']) {
      assert.ok(help.stdout.includes(word), word);
    }
  });
});
