// Engine.IO v4 wire protocol against the real parleyd in PROTOCOL_TEST_MODE:
// handshake, errors, polling and WebSocket messages, heartbeat, close and the
// upgrade from polling to WebSocket. Message tests use the bare echo endpoint
// /engine.io/ (every message comes back as it was sent); handshake,
// heartbeat, close and upgrade are checked on /socket.io/ as well.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  PROTOCOL_ENV, PING_INTERVAL, PING_TIMEOUT, CONNECT_TIMEOUT, SEP, pollRequest, pollingHandshake, pollGet, pollPost,
  splitPayload, wsConnect, wsOpen, within,
  startWatchedServer,
} from './lib/eio.mjs';

let srv;
before(async () => { srv = await startWatchedServer({ env: PROTOCOL_ENV }); });
after(async () => { if (srv) assert.equal(await srv.stop(), 0); });

const HANDSHAKE_KEYS = ['maxPayload', 'pingInterval', 'pingTimeout', 'sid', 'upgrades'];

function assertHandshake(value, upgrades) {
  assert.deepEqual(Object.keys(value).sort(), HANDSHAKE_KEYS);
  assert.equal(typeof value.sid, 'string');
  assert.ok(value.sid.length > 0, 'sid is not empty');
  assert.match(value.sid, /^[A-Za-z0-9_-]+$/, 'sid is URL-safe');
  assert.deepEqual(value.upgrades, upgrades);
  assert.equal(value.pingInterval, PING_INTERVAL);
  assert.equal(value.pingTimeout, PING_TIMEOUT);
  assert.equal(value.maxPayload, 1000000);
}

function assertEioError(res, status, code, message) {
  assert.equal(res.status, status, `expected ${status}, got ${res.status} ${res.text}`);
  assert.deepEqual(res.body, { code, message }, `error body: ${res.text}`);
}

/** Expects a WebSocket request to be refused with HTTP 400 (never opened). */
async function assertWsRefused(path, query) {
  const c = wsConnect(srv.url, path, query);
  await within(c.until(() => c.closed || c.opened, 3000, 'the refusal'), 4000, 'the refusal');
  assert.equal(c.opened, false, `a WebSocket with ${JSON.stringify(query)} was accepted`);
  assert.equal(c.httpStatus, 400, `status ${c.httpStatus} ${c.httpBody}`);
  return c;
}

/** Sends a Socket.IO CONNECT over polling and reads its answer and the "auth" event. */
async function pollingSioConnect(path, sid) {
  assert.equal((await pollPost(srv.url, path, sid, '40')).text, 'ok');
  const got = [];
  const deadline = Date.now() + 3000;
  while (got.length < 2) {
    assert.ok(Date.now() < deadline, `no CONNECT answer and auth event: ${JSON.stringify(got)}`);
    const res = await pollGet(srv.url, path, sid);
    assert.equal(res.status, 200, res.text);
    for (const p of splitPayload(res.text)) {
      if (p === '2') await pollPost(srv.url, path, sid, '3');
      else got.push(p);
    }
  }
  assert.match(got[0], /^40\{"sid":/);
  assert.equal(got[1], '42["auth",{}]');
}

/** Sends a Socket.IO CONNECT on a WebSocket and reads its answer and the "auth" event. */
async function wsSioConnect(client) {
  await client.send('40');
  const frames = [];
  while (frames.length < 2) {
    const f = await client.next(3000, 'the CONNECT answer and the auth event');
    if (f === '2') await client.send('3');
    else frames.push(f);
  }
  assert.match(frames[0], /^40\{"sid":/);
  assert.equal(frames[1], '42["auth",{}]');
}

/** Resolves with the next GET answer that matches `pred`. */
async function pollUntil(path, sid, pred, timeoutMs = 3000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await pollGet(srv.url, path, sid);
    if (pred(res)) return res;
    if (Date.now() > deadline) throw new Error(`timed out; last GET: ${res.status} ${res.text}`);
  }
}

for (const path of ['/engine.io/', '/socket.io/']) {
  describe(`Engine.IO handshake on ${path}`, () => {
    test('polling: 200 with an open packet carrying sid, upgrades ["websocket"], ping settings and maxPayload', async () => {
      const res = await pollRequest(srv.url, path);
      assert.equal(res.status, 200, res.text);
      assert.ok(res.text.startsWith('0'), res.text);
      assertHandshake(JSON.parse(res.text.slice(1)), ['websocket']);
    });

    test('polling: every handshake gets a distinct sid', async () => {
      const sids = new Set();
      for (let i = 0; i < 5; i += 1) sids.add((await pollingHandshake(srv.url, path)).sid);
      assert.equal(sids.size, 5);
    });

    test('polling: a missing or unsupported EIO is a 400 "Unsupported protocol version"', async () => {
      for (const EIO of [null, 'abc', '3', '5', '']) {
        const res = await pollRequest(srv.url, path, { query: { EIO } });
        assertEioError(res, 400, 5, 'Unsupported protocol version');
      }
    });

    test('polling: a missing or unknown transport is a 400 "Transport unknown"', async () => {
      for (const transport of [null, 'abc', '']) {
        const res = await pollRequest(srv.url, path, { query: { transport } });
        assertEioError(res, 400, 0, 'Transport unknown');
      }
    });

    test('polling: a handshake by POST or PUT is a 400 "Bad handshake method"', async () => {
      for (const method of ['POST', 'PUT']) {
        const res = await pollRequest(srv.url, path, { method, body: method === 'POST' ? '' : 'x' });
        assertEioError(res, 400, 2, 'Bad handshake method');
      }
    });

    test('polling: an unknown sid is a 400 "Session ID unknown"', async () => {
      const res = await pollGet(srv.url, path, 'AAAAAAAAAAAAAAAAAAAA');
      assertEioError(res, 400, 1, 'Session ID unknown');
      const post = await pollPost(srv.url, path, 'AAAAAAAAAAAAAAAAAAAA', '4hello');
      assertEioError(post, 400, 1, 'Session ID unknown');
    });

    test('websocket: the first frame is an open packet with upgrades [] and the settings', async () => {
      const { client, handshake } = await wsOpen(srv.url, path);
      assertHandshake(handshake, []);
      client.close();
    });

    test('websocket: a missing or bad EIO or transport is refused with 400', async () => {
      await assertWsRefused(path, { EIO: null });
      await assertWsRefused(path, { EIO: 'abc' });
      await assertWsRefused(path, { EIO: '3' });
      await assertWsRefused(path, { transport: null });
      await assertWsRefused(path, { transport: 'abc' });
      await assertWsRefused(path, { sid: 'AAAAAAAAAAAAAAAAAAAA' });
    });
  });

  // On /socket.io/ a session that never sends a Socket.IO CONNECT is closed
  // after CONNECT_TIMEOUT_MS; the heartbeat and close tests connect first so
  // that only what they test can end the session.
  const sioPath = path === '/socket.io/';

  describe(`Engine.IO heartbeat on ${path}`, () => {
    test('polling: the server pings every pingInterval and a pong keeps the session', async () => {
      const { sid } = await pollingHandshake(srv.url, path);
      if (sioPath) await pollingSioConnect(path, sid);
      let last = Date.now();
      for (let i = 0; i < 3; i += 1) {
        const res = await pollGet(srv.url, path, sid);
        const now = Date.now();
        assert.equal(res.status, 200, res.text);
        assert.equal(res.text, '2', `ping ${i + 1}`);
        assert.ok(now - last >= PING_INTERVAL - 60, `ping ${i + 1} came after ${now - last} ms, before pingInterval`);
        last = now;
        const pong = await pollPost(srv.url, path, sid, '3');
        assert.equal(pong.status, 200, pong.text);
        assert.equal(pong.text, 'ok');
      }
    });

    test('polling: no pong within pingTimeout closes the session', async () => {
      const started = Date.now();
      const { sid } = await pollingHandshake(srv.url, path);
      if (sioPath) await pollingSioConnect(path, sid);
      const ping = await pollGet(srv.url, path, sid);
      assert.equal(ping.text, '2');
      // No pong: the session ends; a GET held at that moment gets the close packet.
      const res = await pollUntil(path, sid, (r) => r.status === 400, 5000);
      assert.equal(res.body.code, 1, res.text);
      assert.ok(Date.now() - started >= PING_INTERVAL + PING_TIMEOUT - 60, `closed after ${Date.now() - started} ms`);
    });

    test('polling: a session never polled is closed after pingInterval + pingTimeout', async () => {
      const { sid } = await pollingHandshake(srv.url, path);
      if (sioPath) assert.equal((await pollPost(srv.url, path, sid, '40')).text, 'ok');
      // The protocol is about time here: wait past pingInterval + pingTimeout.
      await new Promise((r) => setTimeout(r, PING_INTERVAL + PING_TIMEOUT + 300));
      assertEioError(await pollGet(srv.url, path, sid), 400, 1, 'Session ID unknown');
    });

    test('websocket: the server pings every pingInterval and a pong keeps the session', async () => {
      const { client } = await wsOpen(srv.url, path, { autoPong: false });
      if (sioPath) await wsSioConnect(client);
      let last = Date.now();
      for (let i = 0; i < 3; i += 1) {
        const frame = await client.next(PING_INTERVAL + 2000, `ping ${i + 1}`);
        const now = Date.now();
        assert.equal(frame, '2');
        assert.ok(now - last >= PING_INTERVAL - 60, `ping ${i + 1} came after ${now - last} ms`);
        last = now;
        await client.send('3');
      }
      assert.equal(client.closed, false);
      client.close();
    });

    test('websocket: no pong within pingTimeout closes the connection', async () => {
      const { client } = await wsOpen(srv.url, path, { autoPong: false });
      if (sioPath) await wsSioConnect(client);
      const started = Date.now();
      await client.waitClose(5000);
      assert.deepEqual(client.queue, ['2'], 'a ping came before the close');
      const ping = client.received.find((r) => r.frame === '2');
      assert.ok(client.closedAt - ping.at >= PING_TIMEOUT - 60, `closed ${client.closedAt - ping.at} ms after the ping`);
      assert.ok(client.closedAt - started >= PING_INTERVAL + PING_TIMEOUT - 100, `closed after ${client.closedAt - started} ms`);
    });
  });

  describe(`Engine.IO close on ${path}`, () => {
    test('polling: a close packet ends a held GET with a noop, then the sid is unknown', async () => {
      const { sid } = await pollingHandshake(srv.url, path);
      if (sioPath) await pollingSioConnect(path, sid);
      const held = pollGet(srv.url, path, sid);
      // Nothing tells when the server holds the GET: give it a moment to arrive first.
      await new Promise((r) => setTimeout(r, 50));
      const post = await pollPost(srv.url, path, sid, '1');
      assert.equal(post.status, 200, post.text);
      const res = await within(held, 3000, 'the held GET to end');
      assert.equal(res.status, 200, res.text);
      assert.equal(res.text, '6');
      assertEioError(await pollGet(srv.url, path, sid), 400, 1, 'Session ID unknown');
    });

    test('websocket: a close packet closes the connection', async () => {
      // The client answers pings, so nothing but the close packet ends it.
      const { client } = await wsOpen(srv.url, path);
      if (sioPath) await wsSioConnect(client);
      await client.send('1');
      await client.waitClose(3000);
    });

    if (sioPath) {
      test('websocket: a close packet right after the handshake closes the connection before CONNECT_TIMEOUT_MS', async () => {
        const { client } = await wsOpen(srv.url, path);
        await client.send('1');
        const { afterMs } = await client.waitClose(3000);
        assert.ok(afterMs < CONNECT_TIMEOUT, `closed after ${afterMs} ms: by the connect timeout, not the close packet`);
      });
    }
  });

  describe(`Engine.IO upgrade on ${path}`, () => {
    test('probe "2probe" is answered "3probe"; "5" completes it and the session lives on the WebSocket', async () => {
      const { sid } = await pollingHandshake(srv.url, path);
      const ws = wsConnect(srv.url, path, { sid });
      await ws.waitOpen();
      await ws.send('2probe');
      assert.equal(await ws.next(2000, '3probe'), '3probe');
      // A GET while upgrading is ended with a noop so that the client can pause.
      const during = await within(pollGet(srv.url, path, sid), 2000, 'the GET during the upgrade');
      assert.equal(during.status, 200, during.text);
      assert.equal(during.text, '6');
      await ws.send('5');
      // The session is now on the WebSocket: polling is refused...
      const res = await pollGet(srv.url, path, sid);
      assert.equal(res.status, 400, res.text);
      // ...and the WebSocket carries the heartbeat.
      const upgradedAt = Date.now();
      await ws.until(() => ws.received.some((r) => r.frame === '2' && r.at >= upgradedAt), PING_INTERVAL + 1000, 'a ping on the WebSocket');
      assert.equal(ws.closed, false);
      ws.close();
    });

    test('a GET held when the probe arrives is ended with a noop', async () => {
      const { sid } = await pollingHandshake(srv.url, path);
      const held = pollGet(srv.url, path, sid);
      await new Promise((r) => setTimeout(r, 50));  // let the GET be held first (no signal for it)
      const ws = wsConnect(srv.url, path, { sid });
      await ws.waitOpen();
      await ws.send('2probe');
      assert.equal(await ws.next(2000, '3probe'), '3probe');
      const res = await within(held, 2000, 'the held GET');
      assert.equal(res.status, 200, res.text);
      assert.equal(res.text, '6');
      await ws.send('5');
      ws.close();
    });

    test('polling with the sid after the upgrade is refused with 400 (GET and POST)', async () => {
      const { sid } = await pollingHandshake(srv.url, path);
      const ws = wsConnect(srv.url, path, { sid });
      await ws.waitOpen();
      await ws.send('2probe');
      await ws.send('5');
      assert.equal(await ws.next(2000, '3probe'), '3probe');
      const get = await pollGet(srv.url, path, sid);
      assert.equal(get.status, 400, get.text);
      const post = await pollPost(srv.url, path, sid, '4hello');
      assert.equal(post.status, 400, post.text);
      assert.equal(ws.closed, false, 'the upgraded WebSocket survives the refused requests');
      ws.close();
    });

    test('a second WebSocket with the sid after the upgrade is accepted then closed at once', async () => {
      const { sid } = await pollingHandshake(srv.url, path);
      const ws = wsConnect(srv.url, path, { sid });
      await ws.waitOpen();
      await ws.send('2probe');
      await ws.send('5');
      assert.equal(await ws.next(2000, '3probe'), '3probe');
      const second = wsConnect(srv.url, path, { sid });
      await second.waitClose(3000);
      assert.equal(second.opened, true, `the second WebSocket was refused with HTTP ${second.httpStatus}, not accepted then closed`);
      assert.equal(second.queue.length, 0, `the second WebSocket got ${JSON.stringify(second.queue)}`);
      assert.equal(ws.closed, false, 'the first WebSocket is untouched');
      ws.close();
    });
  });
}

describe('Engine.IO messages over polling (/engine.io/ echo)', () => {
  const path = '/engine.io/';

  test('one text packet: POST "ok", then GET returns it', async () => {
    const { sid } = await pollingHandshake(srv.url, path);
    const post = await pollPost(srv.url, path, sid, '4hello');
    assert.equal(post.status, 200, post.text);
    assert.equal(post.text, 'ok');
    const res = await pollGet(srv.url, path, sid);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.text, '4hello');
  });

  test('several text packets separated by \\x1e come back together, in order', async () => {
    const { sid } = await pollingHandshake(srv.url, path);
    const body = ['4test1', '4test2', '4test3'].join(SEP);
    assert.equal((await pollPost(srv.url, path, sid, body)).text, 'ok');
    const res = await pollGet(srv.url, path, sid);
    assert.equal(res.text, body);
  });

  test('text and binary ("b" + base64) packets come back as sent', async () => {
    const { sid } = await pollingHandshake(srv.url, path);
    const body = `4hello${SEP}bAQIDBA==`;
    assert.equal((await pollPost(srv.url, path, sid, body)).text, 'ok');
    const res = await pollGet(srv.url, path, sid);
    assert.equal(res.text, body);
  });

  test('UTF-8 text survives the round trip', async () => {
    const { sid } = await pollingHandshake(srv.url, path);
    const body = `4héllo wörld ✓ 😀${SEP}4`;
    assert.equal((await pollPost(srv.url, path, sid, body)).text, 'ok');
    const res = await pollGet(srv.url, path, sid);
    assert.equal(res.text, body);
  });

  test('a GET held with nothing to send is answered when a message arrives', async () => {
    const { sid } = await pollingHandshake(srv.url, path);
    const held = pollGet(srv.url, path, sid);
    await new Promise((r) => setTimeout(r, 50));  // let the GET be held first (no signal for it)
    assert.equal((await pollPost(srv.url, path, sid, '4later')).text, 'ok');
    const res = await within(held, 2000, 'the held GET');
    assert.equal(res.text, '4later');
  });

  test('an invalid packet is a 400 and closes the session', async () => {
    for (const body of ['abc', '', '9x', `4ok${SEP}zzz`]) {
      const { sid } = await pollingHandshake(srv.url, path);
      let status;
      try {
        status = (await pollPost(srv.url, path, sid, body)).status;
      } catch {
        status = 'connection closed';
      }
      assert.equal(status, 400, `POST ${JSON.stringify(body)}`);
      const res = await pollGet(srv.url, path, sid);
      assertEioError(res, 400, 1, 'Session ID unknown');
    }
  });

  test('two concurrent GETs: the first gets a close packet, the second 400, and the session is gone', async () => {
    const { sid } = await pollingHandshake(srv.url, path);
    const first = pollGet(srv.url, path, sid);
    await new Promise((r) => setTimeout(r, 50));  // let the GET be held first (no signal for it)
    const second = await pollGet(srv.url, path, sid, { t: 'burst' });
    assert.equal(second.status, 400, second.text);
    const res = await within(first, 2000, 'the first GET');
    assert.equal(res.status, 200, res.text);
    assert.equal(res.text, '1');
    assertEioError(await pollGet(srv.url, path, sid), 400, 1, 'Session ID unknown');
  });

  test('another method on a session (PUT) is a 400', async () => {
    const { sid } = await pollingHandshake(srv.url, path);
    const res = await pollRequest(srv.url, path, { method: 'PUT', sid, body: '4x' });
    assert.equal(res.status, 400, res.text);
  });
});

describe('Engine.IO messages over WebSocket (/engine.io/ echo)', () => {
  const path = '/engine.io/';

  test('a text packet is echoed', async () => {
    const { client } = await wsOpen(srv.url, path);
    await client.send('4hello');
    assert.equal(await client.next(), '4hello');
    client.close();
  });

  test('a binary packet is echoed as a binary frame', async () => {
    const { client } = await wsOpen(srv.url, path);
    await client.send(Uint8Array.from([1, 2, 3, 4]));
    const frame = await client.next();
    assert.ok(Buffer.isBuffer(frame), `got a text frame ${JSON.stringify(frame)}`);
    assert.deepEqual([...frame], [1, 2, 3, 4]);
    client.close();
  });

  test('many mixed frames come back complete and in order', async () => {
    const { client } = await wsOpen(srv.url, path);
    const sent = [];
    for (let i = 0; i < 200; i += 1) {
      const f = i % 3 === 0 ? Buffer.from([i & 0xff, 0, 255, i >> 8]) : `4msg-${i}-${'x'.repeat(i)}`;
      sent.push(f);
      client.send(f);
    }
    const got = await client.nextN(sent.length, 5000);
    assert.deepEqual(got, sent);
    client.close();
  });

  test('an invalid packet closes the connection', async () => {
    for (const frame of ['abc', '', '9']) {
      const { client } = await wsOpen(srv.url, path);
      await client.send(frame);
      // The client answers pings and /engine.io/ has no connect deadline: only the error closes it.
      await client.waitClose(3000);
    }
  });

  test('the upgrade loses and reorders nothing: polling before, WebSocket after', async () => {
    const { sid } = await pollingHandshake(srv.url, path);
    // Delivered over polling before the upgrade.
    assert.equal((await pollPost(srv.url, path, sid, ['4a1', '4a2', '4a3'].join(SEP))).text, 'ok');
    assert.deepEqual(splitPayload((await pollGet(srv.url, path, sid)).text), ['4a1', '4a2', '4a3']);
    // Echoed but not polled yet when the upgrade starts.
    assert.equal((await pollPost(srv.url, path, sid, ['4b1', '4b2'].join(SEP))).text, 'ok');
    const ws = wsConnect(srv.url, path, { sid });
    await ws.waitOpen();
    await ws.send('2probe');
    assert.equal(await ws.next(2000, '3probe'), '3probe');
    // Sent over polling while the probe is pending.
    assert.equal((await pollPost(srv.url, path, sid, ['4c1', 'bAQI='].join(SEP))).text, 'ok');
    await ws.send('5');
    for (const f of ['4d1', '4d2', '4d3']) ws.send(f);
    const got = await ws.nextN(7, 3000);
    assert.deepEqual(got.map((f) => (Buffer.isBuffer(f) ? `<${[...f]}>` : f)), ['4b1', '4b2', '4c1', '<1,2>', '4d1', '4d2', '4d3']);
    ws.close();
  });

  test('messages answered to a GET during the upgrade are not sent again on the WebSocket', async () => {
    const { sid } = await pollingHandshake(srv.url, path);
    assert.equal((await pollPost(srv.url, path, sid, ['4x1', '4x2'].join(SEP))).text, 'ok');
    const ws = wsConnect(srv.url, path, { sid });
    await ws.waitOpen();
    await ws.send('2probe');
    assert.equal(await ws.next(2000, '3probe'), '3probe');
    const polled = await pollGet(srv.url, path, sid);
    assert.deepEqual(splitPayload(polled.text), ['4x1', '4x2']);
    const noop = await pollGet(srv.url, path, sid);
    assert.equal(noop.text, '6');
    await ws.send('5');
    await ws.send('4y1');
    assert.equal(await ws.next(2000), '4y1');
    ws.close();
  });

  test('a WebSocket that fails before "5" leaves the polling session working', async () => {
    const { sid } = await pollingHandshake(srv.url, path);
    const ws = wsConnect(srv.url, path, { sid });
    await ws.waitOpen();
    await ws.send('2probe');
    assert.equal(await ws.next(2000, '3probe'), '3probe');
    ws.terminate();
    await ws.waitClose(2000);
    // The session goes on over polling (answering the server's pings).
    const deadline = Date.now() + 3000;
    await pollPost(srv.url, path, sid, '4still-here');
    let text = '';
    while (!text.includes('4still-here')) {
      assert.ok(Date.now() < deadline, `never got the echo; last: ${text}`);
      const res = await pollGet(srv.url, path, sid);
      assert.equal(res.status, 200, res.text);
      text = res.text;
      if (splitPayload(text).includes('2')) await pollPost(srv.url, path, sid, '3');
    }
  });
});
