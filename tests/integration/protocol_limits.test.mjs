// Engine.IO limits against the real parleyd in PROTOCOL_TEST_MODE: a message
// over MAX_PAYLOAD_BYTES (WebSocket: the session closes; polling: 413 and
// the session closes), and the bounded outbound queue (a peer that does not
// read is disconnected and counted in /metrics).

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor, connectRaw, rawRequest } from './lib/server.mjs';
import {
  PROTOCOL_ENV, SEP, metricValue, pollGet, pollPost, pollingHandshake, sioConnect, splitPayload, wsOpen,
  startWatchedServer,
} from './lib/eio.mjs';

const MAX = 1000000;

/**
 * Sends a frame the server refuses. The server may close the connection
 * while the frame is still being written: the write then fails with EPIPE or
 * ECONNRESET, and with nothing else.
 */
async function sendOversized(client, data) {
  try {
    await client.send(data);
  } catch (e) {
    assert.ok(['EPIPE', 'ECONNRESET'].includes(e.code), `writing the oversized frame failed with ${e.code}: ${e.message}`);
  }
}

describe('MAX_PAYLOAD_BYTES (default 1000000)', () => {
  let srv;
  before(async () => { srv = await startWatchedServer({ env: PROTOCOL_ENV }); });
  after(async () => { if (srv) assert.equal(await srv.stop(), 0); });

  test('websocket: a text message just under the limit is echoed', async () => {
    const { client } = await wsOpen(srv.url, '/engine.io/');
    const msg = `4${'a'.repeat(MAX - 1)}`;
    await client.send(msg);
    const echoed = await client.next(5000);
    assert.equal(echoed.length, msg.length);
    assert.equal(echoed, msg);
    client.close();
  });

  test('websocket: a text message over the limit closes the session', async () => {
    const { client } = await wsOpen(srv.url, '/engine.io/');
    await sendOversized(client, `4${'a'.repeat(MAX + 10)}`);
    await client.waitClose(5000);
    assert.equal(client.queue.length, 0, 'nothing was echoed');
  });

  test('websocket: a binary message over the limit closes the session', async () => {
    const { client } = await wsOpen(srv.url, '/engine.io/');
    await sendOversized(client, Buffer.alloc(MAX + 10, 7));
    await client.waitClose(5000);
    assert.equal(client.queue.length, 0, 'nothing was echoed');
  });

  test('websocket: a Socket.IO event over the limit closes the session', async () => {
    const { client } = await sioConnect(srv.url);
    await sendOversized(client, `42["message","${'x'.repeat(MAX + 10)}"]`);
    await client.waitClose(5000);
    assert.ok(!client.queue.some((f) => typeof f === 'string' && f.includes('message-back')));
  });

  test('polling: a payload just under the limit is accepted and echoed', async () => {
    const { sid } = await pollingHandshake(srv.url, '/engine.io/');
    const body = [`4${'b'.repeat(MAX / 2 - 10)}`, `4${'c'.repeat(MAX / 2 - 10)}`].join(SEP);
    const post = await pollPost(srv.url, '/engine.io/', sid, body);
    assert.equal(post.status, 200, post.text.slice(0, 200));
    const res = await pollGet(srv.url, '/engine.io/', sid);
    assert.equal(res.status, 200);
    assert.deepEqual(splitPayload(res.text).map((p) => p.length), [MAX / 2 - 9, MAX / 2 - 9]);
  });

  test('polling: a POST over the limit is a 413', async () => {
    for (const body of [`4${'a'.repeat(MAX + 10)}`, [`4${'a'.repeat(MAX / 2)}`, `4${'b'.repeat(MAX / 2)}`].join(SEP)]) {
      const { sid } = await pollingHandshake(srv.url, '/engine.io/');
      let status;
      try {
        status = (await pollPost(srv.url, '/engine.io/', sid, body)).status;
      } catch (e) {
        status = `request failed: ${e.message}`;
      }
      assert.equal(status, 413);
      // The session is closed: nothing of it is processed, nothing more accepted.
      const marker = await pollPost(srv.url, '/engine.io/', sid, '4marker');
      assert.equal(marker.status, 400, marker.text);
      assert.deepEqual(marker.body, { code: 1, message: 'Session ID unknown' });
      const res = await pollGet(srv.url, '/engine.io/', sid);
      assert.deepEqual([res.status, res.body], [400, { code: 1, message: 'Session ID unknown' }]);
    }
  });

  test('polling: a POST announcing a body far over the limit (3x) gets 413 before the body is sent', async () => {
    const { sid } = await pollingHandshake(srv.url, '/socket.io/');
    const conn = await connectRaw(srv.port);
    await conn.write(rawRequest('POST', `/socket.io/?EIO=4&transport=polling&sid=${sid}`, {
      headers: { 'Content-Type': 'text/plain;charset=UTF-8', 'Content-Length': String(3 * MAX) },
    }));
    const res = await conn.readResponse(3000);
    assert.equal(res.status, 413, res.text);
    conn.destroy();
  });

  test('the server still serves new sessions afterwards', async () => {
    const { client } = await sioConnect(srv.url);
    await client.send('42["message","ok"]');
    assert.equal(await client.next(), '42["message-back","ok"]');
    client.close();
  });
});

describe('MAX_PAYLOAD_BYTES=1000', () => {
  let srv;
  before(async () => { srv = await startWatchedServer({ env: { ...PROTOCOL_ENV, MAX_PAYLOAD_BYTES: '1000' } }); });
  after(async () => { if (srv) assert.equal(await srv.stop(), 0); });

  test('the handshake announces maxPayload 1000 on both transports', async () => {
    assert.equal((await pollingHandshake(srv.url, '/socket.io/')).maxPayload, 1000);
    const { client, handshake } = await wsOpen(srv.url, '/socket.io/');
    assert.equal(handshake.maxPayload, 1000);
    client.close();
  });

  test('websocket: 1000 bytes pass, 1001 bytes close', async () => {
    const ok = await wsOpen(srv.url, '/engine.io/');
    const exact = `4${'z'.repeat(999)}`;
    await ok.client.send(exact);
    assert.equal(await ok.client.next(), exact);
    ok.client.close();
    const over = await wsOpen(srv.url, '/engine.io/');
    await sendOversized(over.client, `4${'z'.repeat(1000)}`);
    await over.client.waitClose(3000);
  });

  test('polling: 1000 bytes pass, 1001 bytes are a 413', async () => {
    const { sid } = await pollingHandshake(srv.url, '/engine.io/');
    assert.equal((await pollPost(srv.url, '/engine.io/', sid, `4${'z'.repeat(999)}`)).status, 200);
    assert.equal((await pollGet(srv.url, '/engine.io/', sid)).text.length, 1000);
    assert.equal((await pollPost(srv.url, '/engine.io/', sid, `4${'z'.repeat(1000)}`)).status, 413);
    assert.equal((await pollGet(srv.url, '/engine.io/', sid)).status, 400);
  });
});

describe('bounded outbound queues (SOCKET_QUEUE_MAX_PACKETS=100, SOCKET_QUEUE_MAX_BYTES=1048576)', () => {
  let srv;
  before(async () => {
    srv = await startWatchedServer({
      env: {
        PROTOCOL_TEST_MODE: '1',
        RATE_LIMIT_DISABLED: '1',
        SOCKET_QUEUE_MAX_PACKETS: '100',
        SOCKET_QUEUE_MAX_BYTES: '1048576',
      },
    });
  });
  after(async () => { if (srv) assert.equal(await srv.stop(), 0); });

  test('polling: a session that never GETs while over 100 packets pile up is closed and counted', async () => {
    const before = await metricValue(srv.url, 'parley_eio_slow_consumers_total');
    const { sid } = await pollingHandshake(srv.url, '/engine.io/');
    // 50 queued packets are within the bound.
    const within = await pollPost(srv.url, '/engine.io/', sid, Array.from({ length: 50 }, (_, i) => `4m${i}`).join(SEP));
    assert.deepEqual([within.status, within.text], [200, 'ok']);
    assert.equal(await metricValue(srv.url, 'parley_eio_slow_consumers_total'), before);
    // 101 are not: the POST itself is fine (its packets were read), and the
    // session is closed for its queue, without lingering for a last poll.
    const over = await pollPost(srv.url, '/engine.io/', sid, Array.from({ length: 51 }, (_, i) => `4n${i}`).join(SEP));
    assert.deepEqual([over.status, over.text], [200, 'ok']);
    const res = await pollGet(srv.url, '/engine.io/', sid);
    assert.deepEqual([res.status, res.body], [400, { code: 1, message: 'Session ID unknown' }], 'the session survived its queue bound');
    assert.equal(await metricValue(srv.url, 'parley_eio_slow_consumers_total'), before + 1);
  });

  test('polling: a session that reads keeps going past the bound', async () => {
    const before = await metricValue(srv.url, 'parley_eio_slow_consumers_total');
    const { sid } = await pollingHandshake(srv.url, '/engine.io/');
    for (let round = 0; round < 5; round += 1) {
      const batch = Array.from({ length: 60 }, (_, i) => `4r${round}-${i}`);
      assert.equal((await pollPost(srv.url, '/engine.io/', sid, batch.join(SEP))).status, 200);
      const res = await pollGet(srv.url, '/engine.io/', sid);
      assert.deepEqual(splitPayload(res.text).filter((p) => p !== '2'), batch);
    }
    assert.equal(await metricValue(srv.url, 'parley_eio_slow_consumers_total'), before);
  });

  test('websocket: a peer that stops reading is disconnected and counted', async () => {
    const before = await metricValue(srv.url, 'parley_eio_slow_consumers_total');
    const { client } = await wsOpen(srv.url, '/engine.io/');
    // Stop reading: the echoes pile up in the kernel, then on the server.
    client.ws._socket.pause();
    const chunk = `4${'q'.repeat(64 * 1024)}`;
    const total = 400;  // 26 MB: far more than the socket buffers hold
    let written = 0;  // frames the client's socket took without an error
    const sending = (async () => {
      for (let i = 0; i < total && !client.closed; i += 1) {
        const err = await new Promise((resolve) => { client.ws.send(chunk, resolve); });
        if (err) break;  // the server closed the connection
        written += 1;
      }
    })();
    try {
      await waitFor(async () => (await metricValue(srv.url, 'parley_eio_slow_consumers_total')) > before,
        { timeoutMs: 15000, intervalMs: 100, what: 'the slow consumer to be counted' });
    } finally {
      client.ws._socket.resume();
    }
    await client.waitClose(10000);
    await sending;
    // What the peer still gets is whole echoes, in order, and fewer than it
    // sent: the server dropped what it had queued when it gave up.
    assert.ok(client.queue.every((f) => f === chunk), 'only whole echoes arrive');
    assert.ok(client.queue.length < written, `${client.queue.length} echoes of ${written} frames sent: the server delivered everything to a peer it gave up on`);
  });

  test('the Engine.IO metrics are in /metrics once each, as a counter and a gauge', async () => {
    const res = await fetch(`${srv.url}/metrics`);
    const text = await res.text();
    for (const [name, type] of [['parley_eio_slow_consumers_total', 'counter'], ['parley_eio_sessions', 'gauge']]) {
      const types = text.match(new RegExp(`^# TYPE ${name} .*$`, 'gm')) ?? [];
      assert.deepEqual(types, [`# TYPE ${name} ${type}`], `TYPE lines of ${name}`);
      const samples = text.match(new RegExp(`^${name}(\\{[^}]*\\})? .*$`, 'gm')) ?? [];
      assert.equal(new Set(samples.map((l) => l.replace(/ [^ ]+$/, ''))).size, samples.length, `duplicate series: ${samples.join(' | ')}`);
    }
  });
});

describe('SOCKET_MAX_ATTACHMENTS=2', () => {
  let srv;
  before(async () => { srv = await startWatchedServer({ env: { ...PROTOCOL_ENV, SOCKET_MAX_ATTACHMENTS: '2' } }); });
  after(async () => { if (srv) assert.equal(await srv.stop(), 0); });

  const ph = (n) => JSON.stringify(['message', ...Array.from({ length: n }, (_, num) => ({ _placeholder: true, num }))]);

  test('two attachments pass', async () => {
    const { client } = await sioConnect(srv.url);
    await client.send(`452-${ph(2)}`);
    await client.send(Buffer.from([1]));
    await client.send(Buffer.from([2]));
    const [header, a, b] = await client.nextN(3);
    assert.ok(header.startsWith('452-["message-back"'), header);
    assert.deepEqual([[...a], [...b]], [[1], [2]]);
    client.close();
  });

  test('three attachments close the session', async () => {
    const { client } = await sioConnect(srv.url);
    await client.send(`453-${ph(3)}`);
    await client.waitClose(3000);
    assert.ok(!client.queue.some((f) => typeof f === 'string' && f.includes('message-back')));
  });
});
