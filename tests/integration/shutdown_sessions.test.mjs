// SIGTERM with Engine.IO sessions in each state a client can leave them in:
// connected over WebSocket, long-polling (a GET waiting), polling but idle,
// closed by the client in the middle of its upgrade (the server keeps such a
// session registered for one last poll), and polling with packets queued and
// no GET to carry them. In every case the server exits 0, promptly, and the
// connected clients hear the close without waiting for a heartbeat timeout.
// The exit status is what an AddressSanitizer build turns into SIGABRT when a
// session outlives the shutdown (LeakSanitizer), so these cases are most
// telling under scripts/test.sh --sanitize.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, newUser, waitFor, connectRaw, rawRequest } from './lib/server.mjs';
import { pollingHandshake, pollGet, pollPost, wsConnect, splitPayload } from './lib/eio.mjs';
import { ChatClient, connect, closeAll, metric } from './lib/chat.mjs';

const ENV = { BCRYPT_ROUNDS: '4', RATE_LIMIT_DISABLED: '1' };

const started = [];
after(async () => {
  closeAll();
  for (const s of started) if (s.proc.exitCode === null && s.proc.signalCode === null) await s.stop();
});

async function server(env = {}) {
  const s = await startServer({ env: { ...ENV, ...env } });
  started.push(s);
  return s;
}

async function timedStop(srv) {
  const t0 = Date.now();
  const code = await srv.stop();
  return { code, ms: Date.now() - t0 };
}

test('SIGTERM with WebSocket, long-polling and idle polling sessions: exit 0, connected clients hear the close', async () => {
  const srv = await server();
  const a = await newUser(srv.url, { name: 'Down WS' });
  const b = await newUser(srv.url, { name: 'Down Polling' });
  const ws = await connect(srv.url, a, { label: 'websocket', transports: ['websocket'] });
  const polling = await connect(srv.url, b, { label: 'polling', transports: ['polling'] });
  await pollingHandshake(srv.url, '/socket.io/'); // idle: never polled, nothing queued
  assert.equal(await metric(srv.url, 'parley_eio_sessions'), 3);
  const t0 = Date.now();
  const { code } = await timedStop(srv);
  assert.equal(code, 0, 'parleyd exits 0 after SIGTERM');
  for (const c of [ws, polling]) {
    const reason = await c.waitDisconnect(5000);
    assert.notEqual(reason, 'io server disconnect', `${c.label}: a shutdown must leave reconnection on`);
    assert.notEqual(reason, 'ping timeout', `${c.label}: told at once, not by a heartbeat timeout`);
  }
  assert.ok(Date.now() - t0 < 10_000);
  ws.close();
  polling.close();
});

// A session the server closed mid-upgrade lingers (kept registered for the
// client to finish its upgrade or poll, up to pingTimeout); a SIGTERM in that
// time must still release it (the registry and the session held each other:
// a leak under ASan).
test('SIGTERM right after the server closed a session in the middle of the upgrade: exit 0', async () => {
  const srv = await server();
  const hs = await pollingHandshake(srv.url, '/socket.io/');
  const probe = wsConnect(srv.url, '/socket.io/', { sid: hs.sid });
  try {
    await probe.waitOpen();
    await probe.send('2probe');
    assert.equal(await probe.next(3000, 'the probe answer'), '3probe');
    // Before "5" (upgrade), a packet no client may send: the server closes the session.
    const refused = await pollPost(srv.url, '/socket.io/', hs.sid, '0');
    assert.equal(refused.status, 200, refused.text);
    assert.equal(await metric(srv.url, 'parley_eio_protocol_errors_total'), 1, 'closed for the packet');
    assert.equal(await metric(srv.url, 'parley_eio_sessions'), 1, 'the session lingers');
    const { code } = await timedStop(srv);
    assert.equal(code, 0, 'parleyd exits 0 after SIGTERM');
  } finally { probe.terminate(); }
});

// The same issue from the server's side: a polling session with packets
// waiting and no GET is closed at shutdown by lingering for a last poll.
test('SIGTERM with a polling session that has packets queued and no GET: exit 0', async () => {
  const srv = await server();
  const a = await newUser(srv.url, { name: 'Queued A' });
  const b = await newUser(srv.url, { name: 'Queued B' });
  const hs = await pollingHandshake(srv.url, '/socket.io/');
  assert.equal((await pollPost(srv.url, '/socket.io/', hs.sid, `40${JSON.stringify({ token: a.token })}`)).text, 'ok');
  // Collect the CONNECT answer and users:online; then stop polling.
  const got = [];
  await waitFor(async () => {
    const res = await pollGet(srv.url, '/socket.io/', hs.sid);
    assert.equal(res.status, 200, res.text);
    got.push(...splitPayload(res.text));
    return got.some((p) => p.startsWith('42["users:online"'));
  }, { timeoutMs: 5000, intervalMs: 1, what: 'the CONNECT answer and users:online' });
  // Another user comes online: user:online is queued for A's session, which has no GET now.
  const cb = new ChatClient(srv.url, { token: b.token, transports: ['websocket'], label: 'B' });
  await cb.connected$();
  await cb.waitEvent('users:online');
  const { code } = await timedStop(srv);
  assert.equal(code, 0, 'parleyd exits 0 after SIGTERM');
  cb.close();
});

// Each session's close runs on its I/O thread; the shutdown used to post them
// and go on to stop the threads, which dropped the closes still queued. Such
// a session and its Socket.IO handler held each other (and the session the
// Engine.IO server): a leak at exit under ASan. With thousands of sessions
// that never connected, the threads were stopped in the middle of the closes
// in most runs (3 of 5 here) before the shutdown waited for them.
test('SIGTERM with thousands of polling sessions: every close runs before the I/O threads stop, exit 0', async () => {
  const n = 3000;
  const srv = await server({ MAX_PENDING_SESSIONS_PER_IP: String(n), MAX_CONNECTIONS_PER_IP: String(n) });
  const conn = await connectRaw(srv.port, '127.0.0.1');
  try {
    const one = rawRequest('GET', '/socket.io/?EIO=4&transport=polling');
    await conn.write(Buffer.concat(Array.from({ length: n }, () => one)));
    for (let i = 0; i < n; i += 1) {
      const res = await conn.readResponse(20_000);
      assert.equal(res.status, 200, `handshake ${i}: ${res.status} ${res.text}`);
    }
  } finally { conn.destroy(); }
  // No other request: an open HTTP connection would hold the shutdown (it
  // waits for connections) long enough for the closes to run anyway.
  const { code, ms } = await timedStop(srv);
  assert.equal(code, 0, 'parleyd exits 0 after SIGTERM');
  assert.ok(ms < 10_000, `stopped in ${ms} ms`);
});
