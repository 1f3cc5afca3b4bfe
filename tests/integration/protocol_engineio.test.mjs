// Engine.IO v4 wire protocol against the real parleyd in PROTOCOL_TEST_MODE:
// handshake, errors, polling and WebSocket messages, heartbeat, close and the
// upgrade from polling to WebSocket. Message tests use the bare echo endpoint
// /engine.io/ (every message comes back as it was sent); handshake,
// heartbeat, close and upgrade are checked on /socket.io/ as well.

import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { CLOCK_SLACK_MS, waitFor } from './lib/server.mjs';
import {
  PROTOCOL_ENV, PING_INTERVAL, PING_TIMEOUT, CONNECT_TIMEOUT,
  HEARTBEAT_ENV, HB_PING_INTERVAL, HB_PING_TIMEOUT, DEADLINE_SLACK,
  SEP, pollRequest, pollingHandshake, pollGet, pollPost, splitPayload, wsConnect, wsOpen, within,
  startPollGet, untilHeld, delay, startWatchedServer,
} from './lib/eio.mjs';

// srv: no ping or deadline within a test (PROTOCOL_ENV), so that what a
// test sees comes from what it sent. hb: the heartbeat tests (HEARTBEAT_ENV).
let srv;
let hb;
before(async () => {
  srv = await startWatchedServer({ env: PROTOCOL_ENV });
  hb = await startWatchedServer({ env: HEARTBEAT_ENV });
});
// The harness stops both after the file and checks that each exits 0.

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
  await within(c.until(() => c.closed || c.opened, 10_000, 'the refusal'), 11_000, 'the refusal');
  assert.equal(c.opened, false, `a WebSocket with ${JSON.stringify(query)} was accepted`);
  assert.equal(c.httpStatus, 400, `status ${c.httpStatus} ${c.httpBody}`);
  return c;
}

/**
 * Sends a Socket.IO CONNECT over polling and reads its answer and the "auth"
 * event, answering pings. Resolves with the time just before the last pong
 * (null if none): the server's next ping comes no sooner than pingInterval
 * after it.
 */
async function pollingSioConnect(server, path, sid) {
  assert.equal((await pollPost(server.url, path, sid, '40')).text, 'ok');
  const got = [];
  let lastPong = null;
  const deadline = Date.now() + 10_000;
  while (got.length < 2) {
    assert.ok(Date.now() < deadline, `no CONNECT answer and auth event: ${JSON.stringify(got)}`);
    const res = await pollGet(server.url, path, sid);
    assert.equal(res.status, 200, res.text);
    for (const p of splitPayload(res.text)) {
      if (p === '2') {
        lastPong = Date.now();
        assert.equal((await pollPost(server.url, path, sid, '3')).text, 'ok');
      } else {
        got.push(p);
      }
    }
  }
  assert.match(got[0], /^40\{"sid":/);
  assert.equal(got[1], '42["auth",{}]');
  return lastPong;
}

/** Sends a Socket.IO CONNECT on a WebSocket and reads its answer and the "auth" event; like pollingSioConnect. */
async function wsSioConnect(client) {
  await client.send('40');
  const frames = [];
  let lastPong = null;
  while (frames.length < 2) {
    const f = await client.next(10_000, 'the CONNECT answer and the auth event');
    if (f === '2') {
      lastPong = Date.now();
      await client.send('3');
    } else {
      frames.push(f);
    }
  }
  assert.match(frames[0], /^40\{"sid":/);
  assert.equal(frames[1], '42["auth",{}]');
  return lastPong;
}

/**
 * Sends the upgrade packet "5" on the probe and waits until the server has
 * taken it: the WebSocket answers a message only once it carries the session
 * (on /engine.io/ an echo, on /socket.io/ a CONNECT answer; anything else on
 * a probe is ignored).
 */
async function completeUpgrade(ws, path) {
  await ws.send('5');
  if (path === '/engine.io/') {
    await ws.send('4upgraded');
    assert.equal(await ws.next(10_000, 'the echo on the upgraded WebSocket'), '4upgraded');
  } else {
    await ws.send('40');
    assert.match(await ws.next(10_000, 'the CONNECT answer on the upgraded WebSocket'), /^40\{"sid":/);
    assert.equal(await ws.next(10_000, 'the auth event'), '42["auth",{}]');
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

  // Time is the behaviour here. Lower bounds are strict, each measured from a
  // moment no later than the server's timer start (before the handshake, or
  // just before the pong that restarts the interval), less CLOCK_SLACK_MS.
  // Deadlines have DEADLINE_SLACK. A client answers a ping within seconds.
  // The tests wait a lot and use sessions of their own: they run together.
  describe(`Engine.IO heartbeat on ${path} (pingInterval ${HB_PING_INTERVAL}, pingTimeout ${HB_PING_TIMEOUT})`, { concurrency: true }, () => {
    // Long enough that a session without pongs would have been closed.
    const KEEP_ALIVE_FOR = HB_PING_INTERVAL + HB_PING_TIMEOUT + HB_PING_INTERVAL;

    test('polling: the server pings every pingInterval and pongs keep the session past pingInterval + pingTimeout', async () => {
      const t0 = Date.now();
      const { sid } = await pollingHandshake(hb.url, path);
      let ref = t0;
      if (sioPath) ref = (await pollingSioConnect(hb, path, sid)) ?? t0;
      let pings = 0;
      while (Date.now() - t0 <= KEEP_ALIVE_FOR) {
        const res = await within(pollGet(hb.url, path, sid), HB_PING_INTERVAL + DEADLINE_SLACK, `ping ${pings + 1}`);
        const now = Date.now();
        assert.deepEqual([res.status, res.text], [200, '2'], `ping ${pings + 1}`);
        assert.ok(now - ref >= HB_PING_INTERVAL - CLOCK_SLACK_MS, `ping ${pings + 1} came ${now - ref} ms after the last pong (or the handshake), before pingInterval`);
        pings += 1;
        ref = Date.now();
        const pong = await pollPost(hb.url, path, sid, '3');
        assert.deepEqual([pong.status, pong.text], [200, 'ok']);
      }
      assert.ok(pings >= 3, `${pings} pings`);
      // Alive to the end; then closed, not left with a ping queued.
      assert.deepEqual(await pollPost(hb.url, path, sid, '1').then((r) => [r.status, r.text]), [200, 'ok']);
    });

    test('polling: no pong within pingTimeout closes the session; the GET held then gets the close packet', async () => {
      const t0 = Date.now();
      const { sid } = await pollingHandshake(hb.url, path);
      if (sioPath) await pollingSioConnect(hb, path, sid);
      const ping = await within(pollGet(hb.url, path, sid), HB_PING_INTERVAL + DEADLINE_SLACK, 'the ping');
      assert.deepEqual([ping.status, ping.text], [200, '2']);
      // No pong. This GET is held until the session ends.
      const res = await within(pollGet(hb.url, path, sid), HB_PING_TIMEOUT + DEADLINE_SLACK, 'the close');
      const elapsed = Date.now() - t0;
      assert.deepEqual([res.status, res.text], [200, '1']);
      assert.ok(elapsed >= HB_PING_INTERVAL + HB_PING_TIMEOUT - CLOCK_SLACK_MS, `closed after ${elapsed} ms`);
      assertEioError(await pollGet(hb.url, path, sid), 400, 1, 'Session ID unknown');
    });

    test('polling: a session never polled is closed after pingInterval + pingTimeout', async () => {
      const t0 = Date.now();
      const { sid } = await pollingHandshake(hb.url, path);
      // A noop packet neither polls nor answers a ping; it shows whether the session is there.
      assert.equal((await pollPost(hb.url, path, sid, sioPath ? '40' : '6')).text, 'ok');
      const gone = await waitFor(async () => {
        const r = await pollPost(hb.url, path, sid, '6');
        if (r.status !== 200) return r;
        assert.equal(r.text, 'ok');
        return null;
      }, { timeoutMs: HB_PING_INTERVAL + HB_PING_TIMEOUT + DEADLINE_SLACK, intervalMs: 50, what: 'the session to be closed' });
      const elapsed = Date.now() - t0;
      assertEioError(gone, 400, 1, 'Session ID unknown');
      assert.ok(elapsed >= HB_PING_INTERVAL + HB_PING_TIMEOUT - CLOCK_SLACK_MS, `closed after ${elapsed} ms`);
    });

    test('websocket: the server pings every pingInterval and pongs keep the session past pingInterval + pingTimeout', async () => {
      const t0 = Date.now();
      const { client } = await wsOpen(hb.url, path, { autoPong: false });
      let ref = t0;
      if (sioPath) ref = (await wsSioConnect(client)) ?? t0;
      let pings = 0;
      while (Date.now() - t0 <= KEEP_ALIVE_FOR) {
        const frame = await client.next(HB_PING_INTERVAL + DEADLINE_SLACK, `ping ${pings + 1}`);
        const now = Date.now();
        assert.equal(frame, '2');
        assert.ok(now - ref >= HB_PING_INTERVAL - CLOCK_SLACK_MS, `ping ${pings + 1} came ${now - ref} ms after the last pong (or the handshake)`);
        pings += 1;
        ref = Date.now();
        await client.send('3');
      }
      assert.ok(pings >= 3, `${pings} pings`);
      assert.equal(client.closed, false);
      client.close();
    });

    test('websocket: no pong within pingTimeout closes the connection', async () => {
      const t0 = Date.now();
      const { client } = await wsOpen(hb.url, path, { autoPong: false });
      if (sioPath) await wsSioConnect(client);
      await client.waitClose(HB_PING_INTERVAL + HB_PING_TIMEOUT + DEADLINE_SLACK);
      const elapsed = client.closedAt - t0;
      assert.deepEqual(client.queue, ['2'], 'a ping, then the close');
      assert.ok(elapsed >= HB_PING_INTERVAL + HB_PING_TIMEOUT - CLOCK_SLACK_MS, `closed after ${elapsed} ms`);
    });

    test('websocket after an upgrade: the heartbeat runs on the WebSocket', async () => {
      const { sid } = await pollingHandshake(hb.url, path);
      const ws = wsConnect(hb.url, path, { sid }, { autoPong: false });
      await ws.waitOpen();
      await ws.send('2probe');
      assert.equal(await ws.next(10_000, '3probe'), '3probe');
      await ws.send('5');
      if (sioPath) await wsSioConnect(ws);
      // A ping the session queued before the upgrade may come first; the one
      // after a pong on the WebSocket is the WebSocket's own.
      assert.equal(await ws.next(HB_PING_INTERVAL + DEADLINE_SLACK, 'a ping on the WebSocket'), '2');
      const ref = Date.now();
      await ws.send('3');
      assert.equal(await ws.next(HB_PING_INTERVAL + DEADLINE_SLACK, 'the next ping'), '2');
      assert.ok(Date.now() - ref >= HB_PING_INTERVAL - CLOCK_SLACK_MS);
      const res = await pollGet(hb.url, path, sid);
      assert.equal(res.status, 400, `polling after the upgrade: ${res.text}`);
      assert.equal(ws.closed, false);
      ws.close();
    });
  });

  describe(`Engine.IO close on ${path}`, () => {
    test('polling: a close packet ends a held GET with a noop, then the sid is unknown', async () => {
      await untilHeld(async (headStart) => {
        const { sid } = await pollingHandshake(srv.url, path);
        if (sioPath) await pollingSioConnect(srv, path, sid);
        const held = await startPollGet(srv, path, sid);
        await delay(headStart);
        const post = await pollPost(srv.url, path, sid, '1');
        assert.deepEqual([post.status, post.text], [200, 'ok']);
        const res = await held.response;
        assertEioError(await pollGet(srv.url, path, sid), 400, 1, 'Session ID unknown');
        if (res.status === 400) {
          // The close packet came first: the GET found no session.
          assertEioError(res, 400, 1, 'Session ID unknown');
          return false;
        }
        assert.deepEqual([res.status, res.text], [200, '6']);
        return true;
      }, 'before the close packet');
    });

    test('websocket: a close packet closes the connection', async () => {
      // Nothing but the close packet can end it (no ping, no deadline here).
      const { client } = await wsOpen(srv.url, path);
      if (sioPath) await wsSioConnect(client);
      await client.send('1');
      await client.waitClose();
    });

    if (sioPath) {
      test('websocket: a close packet right after the handshake closes the connection, not CONNECT_TIMEOUT_MS', async () => {
        const { client } = await wsOpen(srv.url, path);
        await client.send('1');
        const { afterMs } = await client.waitClose();
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
      assert.equal(await ws.next(10_000, '3probe'), '3probe');
      // A GET while upgrading is ended with a noop so that the client can pause.
      const during = await within(pollGet(srv.url, path, sid), 10_000, 'the GET during the upgrade');
      assert.deepEqual([during.status, during.text], [200, '6']);
      // The WebSocket now carries the session (completeUpgrade checks it)...
      await completeUpgrade(ws, path);
      // ...and polling is refused.
      assertEioError(await pollGet(srv.url, path, sid), 400, 3, 'Bad request');
      assert.equal(ws.closed, false);
      ws.close();
    });

    test('a close packet over polling mid-upgrade ends the session at once: the probe is closed, the sid unknown', async () => {
      const { sid } = await pollingHandshake(srv.url, path);
      const ws = wsConnect(srv.url, path, { sid });
      await ws.waitOpen();
      await ws.send('2probe');
      assert.equal(await ws.next(10_000, '3probe'), '3probe');
      const closed = await pollPost(srv.url, path, sid, '1');
      assert.deepEqual([closed.status, closed.text], [200, 'ok']);
      const { afterMs } = await ws.waitClose();
      assert.ok(afterMs < PING_TIMEOUT, `the probe closed after ${afterMs} ms: by a timeout, not the close packet`);
      assertEioError(await pollGet(srv.url, path, sid), 400, 1, 'Session ID unknown');
    });

    test('a GET pending when the probe arrives is ended with a noop', async () => {
      const { sid } = await pollingHandshake(srv.url, path);
      // Sent before the WebSocket even connects. Had the server seen it only
      // after the probe, the answer would be the same noop (test above).
      const held = await startPollGet(srv, path, sid);
      const ws = wsConnect(srv.url, path, { sid });
      await ws.waitOpen();
      await ws.send('2probe');
      assert.equal(await ws.next(10_000, '3probe'), '3probe');
      const res = await held.response;
      assert.deepEqual([res.status, res.text], [200, '6']);
      await completeUpgrade(ws, path);
      ws.close();
    });

    test('polling with the sid after the upgrade is refused with 400 (GET and POST)', async () => {
      const { sid } = await pollingHandshake(srv.url, path);
      const ws = wsConnect(srv.url, path, { sid });
      await ws.waitOpen();
      await ws.send('2probe');
      assert.equal(await ws.next(10_000, '3probe'), '3probe');
      await completeUpgrade(ws, path);
      assertEioError(await pollGet(srv.url, path, sid), 400, 3, 'Bad request');
      assertEioError(await pollPost(srv.url, path, sid, '4hello'), 400, 3, 'Bad request');
      assert.equal(ws.closed, false, 'the upgraded WebSocket survives the refused requests');
      ws.close();
    });

    test('a second WebSocket with the sid after the upgrade is accepted then closed at once', async () => {
      const { sid } = await pollingHandshake(srv.url, path);
      const ws = wsConnect(srv.url, path, { sid });
      await ws.waitOpen();
      await ws.send('2probe');
      assert.equal(await ws.next(10_000, '3probe'), '3probe');
      await completeUpgrade(ws, path);
      const second = wsConnect(srv.url, path, { sid });
      await second.waitClose();
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
    // Sent before the message. Had the server seen it only after the
    // message, the answer would be the same.
    const held = await startPollGet(srv, path, sid);
    assert.equal((await pollPost(srv.url, path, sid, '4later')).text, 'ok');
    const res = await held.response;
    assert.deepEqual([res.status, res.text], [200, '4later']);
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

  test('two concurrent GETs: the held one gets a close packet, the other 400, and the session is gone', async () => {
    await untilHeld(async (headStart) => {
      const { sid } = await pollingHandshake(srv.url, path);
      const first = await startPollGet(srv, path, sid);
      await delay(headStart);
      const second = await pollGet(srv.url, path, sid, { t: 'burst' });
      const res = await first.response;
      assertEioError(await pollGet(srv.url, path, sid), 400, 1, 'Session ID unknown');
      // The server holds whichever came first; it is the other one that is refused.
      const [held, refused] = second.status === 400 ? [res, second] : [second, res];
      assert.deepEqual([held.status, held.text], [200, '1']);
      assertEioError(refused, 400, 3, 'Bad request');
      return held === res;
    }, 'the first of two GETs');
  });

  test('another method on a session (PUT) is a 400', async () => {
    const { sid } = await pollingHandshake(srv.url, path);
    const res = await pollRequest(srv.url, path, { method: 'PUT', sid, body: '4x' });
    assertEioError(res, 400, 3, 'Bad request');
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
      await client.waitClose();
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
    assert.equal(await ws.next(10_000, '3probe'), '3probe');
    // Sent over polling while the probe is pending.
    assert.equal((await pollPost(srv.url, path, sid, ['4c1', 'bAQI='].join(SEP))).text, 'ok');
    await ws.send('5');
    for (const f of ['4d1', '4d2', '4d3']) ws.send(f);
    const got = await ws.nextN(7);
    assert.deepEqual(got.map((f) => (Buffer.isBuffer(f) ? `<${[...f]}>` : f)), ['4b1', '4b2', '4c1', '<1,2>', '4d1', '4d2', '4d3']);
    ws.close();
  });

  test('messages answered to a GET during the upgrade are not sent again on the WebSocket', async () => {
    const { sid } = await pollingHandshake(srv.url, path);
    assert.equal((await pollPost(srv.url, path, sid, ['4x1', '4x2'].join(SEP))).text, 'ok');
    const ws = wsConnect(srv.url, path, { sid });
    await ws.waitOpen();
    await ws.send('2probe');
    assert.equal(await ws.next(10_000, '3probe'), '3probe');
    const polled = await pollGet(srv.url, path, sid);
    assert.deepEqual(splitPayload(polled.text), ['4x1', '4x2']);
    const noop = await pollGet(srv.url, path, sid);
    assert.equal(noop.text, '6');
    await ws.send('5');
    await ws.send('4y1');
    assert.equal(await ws.next(), '4y1');
    ws.close();
  });

  test('a WebSocket that fails before "5" leaves the polling session working', async () => {
    const { sid } = await pollingHandshake(srv.url, path);
    const ws = wsConnect(srv.url, path, { sid });
    await ws.waitOpen();
    await ws.send('2probe');
    assert.equal(await ws.next(10_000, '3probe'), '3probe');
    ws.terminate();
    await ws.waitClose();
    // The session goes on over polling. Until the server has seen the probe
    // go, a GET is still ended with the upgrade's noop.
    assert.equal((await pollPost(srv.url, path, sid, '4still-here')).text, 'ok');
    const deadline = Date.now() + 10_000;
    for (;;) {
      const res = await pollGet(srv.url, path, sid);
      assert.equal(res.status, 200, res.text);
      if (res.text === '4still-here') break;
      assert.equal(res.text, '6', 'only the upgrade\'s noop may come before the echo');
      assert.ok(Date.now() < deadline, 'never got the echo');
    }
  });
});
