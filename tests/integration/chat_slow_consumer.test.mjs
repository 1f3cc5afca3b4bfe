// A client that stops reading is disconnected ("slow consumer", counted in
// parley_eio_slow_consumers_total) without hurting anyone else: a raw
// WebSocket client authenticates as a user and then stops reading its TCP
// socket while another user floods it with messages over HTTP; a long-polling
// client that stops polling likewise. Normal clients keep sending and
// receiving throughout.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import WebSocket from 'ws';
import { startServer, newUser, request, waitFor } from './lib/server.mjs';
import { JsonClient } from './lib/messages.mjs';
import { BASE_ENV, TRANSPORT_MODES, ChatClient, connect, metric, closeAll } from './lib/chat.mjs';

const QUEUE_MAX = 50;
const FLOOD_DEADLINE_MS = 30_000;
const FLOOD_MAX_MESSAGES = 16_000; // 64 MB of text
const started = [];
after(async () => {
  closeAll();
  for (const s of started) if (s.running) assert.equal(await s.stop(), 0);
});

/** A raw Engine.IO/Socket.IO WebSocket client: handshake, CONNECT with the token, users:online. */
async function rawWsClient(srv, token) {
  const ws = new WebSocket(`ws://127.0.0.1:${srv.port}/socket.io/?EIO=4&transport=websocket`);
  const frames = [];
  const state = { closed: false, waiters: new Set() };
  const notify = () => { for (const w of state.waiters) w(); };
  ws.on('message', (data) => {
    const text = data.toString();
    if (text === '2') ws.send('3'); // answer pings while reading
    frames.push(text);
    notify();
  });
  ws.on('close', () => { state.closed = true; notify(); });
  ws.on('error', () => { /* the close event follows */ });
  const until = (pred, ms, what) => new Promise((resolve, reject) => {
    const check = () => { const v = pred(); if (v) { done(); resolve(v); } return v; };
    const timer = setTimeout(() => { done(); reject(new Error(`raw ws: timed out waiting for ${what}; frames: ${JSON.stringify(frames.slice(0, 5))}`)); }, ms);
    const done = () => { clearTimeout(timer); state.waiters.delete(check); };
    if (!check()) state.waiters.add(check);
  });
  await until(() => frames.find((f) => f.startsWith('0{')), 5000, 'the Engine.IO open packet');
  ws.send(`40${JSON.stringify({ token })}`);
  await until(() => frames.find((f) => f.startsWith('40{')), 5000, 'the Socket.IO CONNECT ack');
  await until(() => frames.find((f) => f.startsWith('42["users:online"')), 5000, 'users:online');
  return { ws, frames, state, until };
}

/** Sends `text` from `from` to `to` over HTTP from `loops` concurrent loops until `stop()` is true or `max` were sent. */
function flood(srv, from, to, { loops = 6, text, stop = () => false, max = Infinity }) {
  const clients = [];
  let sent = 0;
  let failures = 0;
  const errors = [];
  const done = Promise.all(Array.from({ length: loops }, async () => {
    const c = new JsonClient(srv.url);
    clients.push(c);
    while (!stop() && sent < max) {
      let r;
      try {
        r = await c.post('/api/messages/send', { to: to.user._id, text }, from.token);
      } catch (e) {
        errors.push(`after ${sent} sent: ${e.message}`);
        failures += 1;
        continue;
      }
      if (r.status === 201) sent += 1;
      else { failures += 1; errors.push(`${r.status} ${r.text.slice(0, 200)}`); }
    }
  })).finally(() => { for (const c of clients) c.close(); });
  return { done, errors, get sent() { return sent; }, get failures() { return failures; } };
}

/** A normal pair of socket.io-client users exchange a message with acks (each step within 10 s). */
async function exchange(cx, cy, y, tag) {
  const m = await cx.send(y, `ping ${tag}`);
  const e = await cy.waitReceived(m._id, { timeoutMs: 10_000 });
  e.ack();
  await cx.waitEvent('message:delivered', (p) => p.messageId === m._id, { timeoutMs: 10_000 });
}

test('a WebSocket client that stops reading is disconnected as a slow consumer; others keep working', { timeout: 90_000 }, async (t) => {
  const srv = await startServer({ env: { ...BASE_ENV, SOCKET_QUEUE_MAX_PACKETS: String(QUEUE_MAX) } });
  started.push(srv);
  const flooder = await newUser(srv.url, { name: 'Flooder' });
  const slow = await newUser(srv.url, { name: 'Slow Reader' });
  const x = await newUser(srv.url, { name: 'Normal X' });
  const y = await newUser(srv.url, { name: 'Normal Y' });
  const cx = await connect(srv.url, x, { label: 'X' });
  const cy = await connect(srv.url, y, { label: 'Y', transports: ['websocket'] });
  const raw = await rawWsClient(srv, slow.token);
  try {
    assert.equal(await metric(srv.url, 'parley_eio_slow_consumers_total') ?? 0, 0);
    await cx.waitEvent('user:online', (p) => p.userId === slow.user._id);
    assert.ok((await request(srv.url, '/api/users?limit=200', { token: x.token })).body.find((u) => u._id === slow.user._id).online);

    // Stop reading: the kernel buffers fill, then the server's queue.
    raw.ws._socket.pause();
    // Far more than the kernel's socket buffers and QUEUE_MAX packets can hold.
    let slowCount = 0;
    const deadline = Date.now() + FLOOD_DEADLINE_MS;
    const f = flood(srv, flooder, slow, {
      text: 'z'.repeat(4000),
      stop: () => slowCount > 0 || Date.now() > deadline,
      max: FLOOD_MAX_MESSAGES,
    });
    // Normal traffic goes on meanwhile, and the flood is watched through /metrics.
    let exchanges = 0;
    while (slowCount === 0 && Date.now() <= deadline && f.sent < FLOOD_MAX_MESSAGES) {
      await exchange(cx, cy, y, `during ${exchanges}`);
      exchanges += 1;
      slowCount = (await metric(srv.url, 'parley_eio_slow_consumers_total')) ?? 0;
    }
    await f.done;
    t.diagnostic(`${f.sent} messages of 4000 characters flooded; ${exchanges} normal exchanges meanwhile; slow consumers ${slowCount}`);
    assert.deepEqual(f.errors.slice(0, 5), [], 'the flooder\'s sends all succeed');
    // The server must close a client that stops reading: counted by now, or
    // once it has worked through what the flood queued.
    await waitFor(async () => ((await metric(srv.url, 'parley_eio_slow_consumers_total')) ?? 0) > 0, {
      timeoutMs: 10_000,
      what: `the slow consumer to be counted (parley_eio_slow_consumers_total was 0 after ${f.sent} messages of 4000 characters, RSS ${rssMb(srv.pid)} MB)`,
    });

    // The slow client's connection is gone: it sees the close once it reads again.
    raw.ws._socket.resume();
    await raw.until(() => raw.state.closed, 10_000, 'the server to close the slow client');
    // Its user goes offline for the others.
    await cx.waitEvent('user:offline', (p) => p.userId === slow.user._id, { timeoutMs: 10_000 });
    // Normal clients still work, promptly.
    for (let i = 0; i < 5; i += 1) await exchange(cy, cx, x, `after ${i}`);
    assert.equal(cx.connected && cy.connected, true);
    assert.deepEqual([cx.disconnects, cy.disconnects], [[], []]);
    // The server is healthy.
    assert.equal((await request(srv.url, '/api/health')).status, 200);
  } catch (e) {
    const state = srv.proc.exitCode !== null || srv.proc.signalCode !== null
      ? `parleyd exited (${srv.proc.exitCode ?? srv.proc.signalCode})` : 'parleyd still running';
    e.message += `\n${state}; stderr tail:\n${srv.stderr.text.slice(-2000)}\nstdout tail:\n${srv.stdout.text.split('\n').filter((l) => !/"path":"\/(api\/messages\/send|metrics)"/.test(l)).slice(-15).join('\n')}`;
    throw e;
  } finally {
    raw.ws.terminate();
    cx.close(); cy.close();
    if (srv.running) assert.equal(await srv.stop(), 0);
  }
});

test('a long-polling client that stops polling is disconnected as a slow consumer', { timeout: 60_000 }, async () => {
  const srv = await startServer({ env: { ...BASE_ENV, SOCKET_QUEUE_MAX_PACKETS: String(QUEUE_MAX) } });
  started.push(srv);
  const flooder = await newUser(srv.url, { name: 'Flooder' });
  const slow = await newUser(srv.url, { name: 'Slow Poller' });
  const x = await newUser(srv.url, { name: 'Normal X' });
  const cx = await connect(srv.url, x, { label: 'X' });
  try {
    // Handshake and CONNECT over polling, then never poll again.
    const hs = await fetch(`${srv.url}/socket.io/?EIO=4&transport=polling`);
    const open = await hs.text();
    assert.match(open, /^0\{/);
    const { sid } = JSON.parse(open.slice(1));
    const post = await fetch(`${srv.url}/socket.io/?EIO=4&transport=polling&sid=${sid}`, {
      method: 'POST', headers: { 'content-type': 'text/plain;charset=UTF-8' }, body: `40${JSON.stringify({ token: slow.token })}`,
    });
    assert.equal(post.status, 200);
    await cx.waitEvent('user:online', (p) => p.userId === slow.user._id);
    const f = flood(srv, flooder, slow, { loops: 2, text: 'queued', max: QUEUE_MAX * 3 });
    await f.done;
    await waitFor(async () => ((await metric(srv.url, 'parley_eio_slow_consumers_total')) ?? 0) > 0, { timeoutMs: 5000, what: 'slow consumer count' });
    await cx.waitEvent('user:offline', (p) => p.userId === slow.user._id);
    // The session is gone.
    const gone = await fetch(`${srv.url}/socket.io/?EIO=4&transport=polling&sid=${sid}`);
    assert.equal(gone.status, 400);
    await gone.text();
    // Someone else still works.
    const m = await cx.send(flooder, 'fine');
    assert.equal(m.from, x.user._id);
  } finally {
    cx.close();
    assert.equal(await srv.stop(), 0);
  }
});

// The replay on connect is paced by the session's queue, not dropped with it:
// with a queue of 4096 packets (and the replay of up to 5000), a user with
// more pending messages than the queue holds still gets them all.
test('a user with more pending messages than the socket queue holds gets them all on connect', { timeout: 120_000 }, async (t) => {
  const srv = await startServer({ env: { ...BASE_ENV, SOCKET_QUEUE_MAX_PACKETS: '4096' } });
  started.push(srv);
  const PENDING = 4200;
  const a = await newUser(srv.url, { name: 'Backlog A' });
  const b = await newUser(srv.url, { name: 'Backlog B' });
  try {
    const f = flood(srv, a, b, { loops: 4, text: 'backlog', max: PENDING });
    await f.done;
    assert.deepEqual(f.errors.slice(0, 5), []);
    // Long-polling only is what the default transports fall back to when the upgrade is not possible.
    for (const mode of [...TRANSPORT_MODES, { name: 'long-polling only', opts: { transports: ['polling'] } }]) {
      await t.test(mode.name, async () => {
        const c = new ChatClient(srv.url, { ...mode.opts, token: b.token, label: `B ${mode.name}` });
        try {
          await c.until(() => c.all('message:received').length >= f.sent || c.disconnects.length > 0 || c.connectErrors.length > 0,
            { timeoutMs: 30_000, what: `${f.sent} pending messages` });
          const got = new Set(c.all('message:received').map((e) => e.args[0].message._id)).size;
          assert.deepEqual(c.disconnects, [], `disconnected after ${got} of ${f.sent} pending messages (slow consumers: ${await metric(srv.url, 'parley_eio_slow_consumers_total')})`);
          assert.equal(got, f.sent);
        } finally { c.close(); }
      });
    }
  } finally {
    assert.equal(await srv.stop(), 0);
  }
});

function rssMb(pid) {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    return Math.round(Number(status.match(/VmRSS:\s+(\d+)/)[1]) / 1024);
  } catch { return '?'; }
}
