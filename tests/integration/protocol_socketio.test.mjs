// Socket.IO v5 wire protocol against the real parleyd in PROTOCOL_TEST_MODE
// (namespaces "/" and "/custom"; the "auth" event echoing the CONNECT
// payload; "message" echoed as "message-back"; "message-with-ack" acked with
// its arguments), over raw WebSocket and polling frames.

import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { CLOCK_SLACK_MS } from './lib/server.mjs';
import {
  PROTOCOL_ENV, HEARTBEAT_ENV, HB_PING_INTERVAL, HB_CONNECT_TIMEOUT, DEADLINE_SLACK,
  PollingClient, SEP, pollGet, pollPost, sioConnect, wsOpen, startWatchedServer,
} from './lib/eio.mjs';

// srv: no ping or deadline within a test (PROTOCOL_ENV). hb: short
// heartbeat and connect deadline (HEARTBEAT_ENV), for the tests of those.
let srv;
let hb;
before(async () => {
  srv = await startWatchedServer({ env: PROTOCOL_ENV });
  hb = await startWatchedServer({ env: HEARTBEAT_ENV });
});
// The harness stops both after the file and checks that each exits 0.

// How long the server may take to close a session for bad input.
const CLOSE_DEADLINE = 5000;

const placeholder = (num) => ({ _placeholder: true, num });

function assertConnectAnswer(frame, prefix) {
  assert.ok(frame.startsWith(`40${prefix}`), frame);
  const body = JSON.parse(frame.slice(2 + prefix.length));
  assert.deepEqual(Object.keys(body), ['sid']);
  assert.equal(typeof body.sid, 'string');
  assert.ok(body.sid.length > 0);
  return body.sid;
}

/**
 * Asserts the server closes the connection. The client answers pings and is
 * connected (or on a server with a long CONNECT_TIMEOUT_MS), so only the
 * server's reaction to what was sent can close it.
 */
async function assertClosedByServer(client, what) {
  try {
    await client.waitClose(CLOSE_DEADLINE);
  } catch (e) {
    throw new Error(`${what}: the connection stayed open (${e.message})`);
  }
}

/** Asserts the connection is still usable: an event is echoed. */
async function assertAlive(client, nspPrefix = '') {
  await client.send(`42${nspPrefix}["message","alive?"]`);
  assert.equal(await client.next(10_000, 'the echo'), `42${nspPrefix}["message-back","alive?"]`);
}

describe('Socket.IO connect', () => {
  test('CONNECT to "/" is answered 40{"sid"} then the "auth" event with {}', async () => {
    const { client } = await wsOpen(srv.url, '/socket.io/');
    await client.send('40');
    assertConnectAnswer(await client.next(), '');
    assert.equal(await client.next(), '42["auth",{}]');
    client.close();
  });

  test('CONNECT to "/" with a payload: the payload comes back in the "auth" event', async () => {
    const { client } = await wsOpen(srv.url, '/socket.io/');
    await client.send('40{"token":"123"}');
    assertConnectAnswer(await client.next(), '');
    assert.equal(await client.next(), '42["auth",{"token":"123"}]');
    client.close();
  });

  test('CONNECT to "/custom"', async () => {
    const { client } = await wsOpen(srv.url, '/socket.io/');
    await client.send('40/custom,');
    assertConnectAnswer(await client.next(), '/custom,');
    assert.equal(await client.next(), '42/custom,["auth",{}]');
    client.close();
  });

  test('CONNECT to "/custom" without the trailing comma', async () => {
    const { client } = await wsOpen(srv.url, '/socket.io/');
    await client.send('40/custom');
    assertConnectAnswer(await client.next(), '/custom,');
    assert.equal(await client.next(), '42/custom,["auth",{}]');
    client.close();
  });

  test('CONNECT to "/custom" with a payload', async () => {
    const { client } = await wsOpen(srv.url, '/socket.io/');
    await client.send('40/custom,{"token":"abc"}');
    assertConnectAnswer(await client.next(), '/custom,');
    assert.equal(await client.next(), '42/custom,["auth",{"token":"abc"}]');
    client.close();
  });

  test('each CONNECT gets its own Socket.IO sid, distinct from the Engine.IO sid', async () => {
    const a = await sioConnect(srv.url);
    const b = await sioConnect(srv.url);
    assert.notEqual(a.sid, b.sid);
    assert.notEqual(a.sid, a.handshake.sid);
    a.client.close();
    b.client.close();
  });

  test('CONNECT to an unknown namespace gets CONNECT_ERROR "Invalid namespace"', async () => {
    const { client } = await wsOpen(srv.url, '/socket.io/');
    await client.send('40/random');
    assert.equal(await client.next(), '44/random,{"message":"Invalid namespace"}');
    // The session is still there for a valid namespace.
    await client.send('40');
    assertConnectAnswer(await client.next(), '');
    assert.equal(await client.next(), '42["auth",{}]');
    client.close();
  });
});

// CONNECT_TIMEOUT_MS is about time: the lower bound is strict (measured from
// before the session existed), the deadline has seconds of slack. The tests
// mostly wait, on sessions of their own: they run together.
describe('CONNECT_TIMEOUT_MS', { concurrency: true }, () => {
  test(`no CONNECT within CONNECT_TIMEOUT_MS (${HB_CONNECT_TIMEOUT}) closes the session (pongs do not keep it)`, async () => {
    const { client } = await wsOpen(hb.url, '/socket.io/');
    const { afterMs } = await client.waitClose(HB_CONNECT_TIMEOUT + DEADLINE_SLACK);
    assert.ok(client.received.some((r) => r.frame === '2'), 'pings were received and answered');
    assert.ok(afterMs >= HB_CONNECT_TIMEOUT - CLOCK_SLACK_MS, `closed after ${afterMs} ms, before CONNECT_TIMEOUT_MS`);
  });

  test(`a connected session outlives CONNECT_TIMEOUT_MS (${HB_CONNECT_TIMEOUT})`, async () => {
    const { client } = await sioConnect(hb.url);
    // The session exists by now; the pings tell the time.
    const start = Date.now();
    await client.until(() => client.received.some((r) => r.frame === '2' && r.at > start + HB_CONNECT_TIMEOUT),
      HB_CONNECT_TIMEOUT + DEADLINE_SLACK, 'a ping after CONNECT_TIMEOUT_MS');
    assert.equal(client.closed, false);
    await assertAlive(client);
    client.close();
  });
});

describe('before CONNECT (a server with CONNECT_TIMEOUT_MS=60000, so that only the error can close)', { concurrency: true }, () => {
  let late;
  before(async () => { late = await startWatchedServer({ env: { ...HEARTBEAT_ENV, CONNECT_TIMEOUT_MS: '60000' } }); });
  // The harness stops it after the file and checks that it exits 0.

  test('an invalid handshake ("4abc") closes the connection', async () => {
    const { client } = await wsOpen(late.url, '/socket.io/');
    await client.send('4abc');
    await assertClosedByServer(client, '"4abc"');
  });

  test('a CONNECT with a non-object payload or invalid JSON closes the connection', async () => {
    for (const frame of ['40"x"', '40[1]', '40{bad json', '40/custom,[]']) {
      const { client } = await wsOpen(late.url, '/socket.io/');
      await client.send(frame);
      await assertClosedByServer(client, frame);
    }
  });

  for (const [name, frames] of [
    ['an event', ['42["message","too early"]']],
    ['an event with an ack id', ['421["message-with-ack","too early"]']],
    ['an ack', ['431[]']],
    ['a binary event with its attachment', ['451-["message",{"_placeholder":true,"num":0}]', Buffer.from([1])]],
    ['an event to "/custom"', ['42/custom,["message","too early"]']],
  ]) {
    test(`${name} before CONNECT closes the session`, async () => {
      const { client } = await wsOpen(late.url, '/socket.io/');
      for (const f of frames) await client.send(f);
      await assertClosedByServer(client, JSON.stringify(frames[0]));
      assert.ok(!client.queue.some((f) => typeof f === 'string' && f.startsWith('4')), `answered: ${JSON.stringify(client.queue)}`);
    });
  }

  test('a session that sends nothing stays open longer than the tests above wait for the close (control)', async () => {
    const { client } = await wsOpen(late.url, '/socket.io/');
    const start = Date.now();
    await client.until(() => client.received.some((r) => r.frame === '2' && r.at - start > CLOSE_DEADLINE),
      CLOSE_DEADLINE + DEADLINE_SLACK, `a ping after ${CLOSE_DEADLINE} ms`);
    assert.equal(client.closed, false);
    await client.send('40');
    assert.match(await client.next(), /^40\{"sid":/);
    client.close();
  });
});

describe('Socket.IO disconnect', () => {
  test('DISCONNECT from "/" keeps the Engine.IO session (the next frame is a ping)', async () => {
    const { client } = await sioConnect(hb.url, { opts: { autoPong: false } });
    await client.send('41');
    assert.equal(await client.next(HB_PING_INTERVAL + DEADLINE_SLACK), '2');
    await client.send('3');
    // And it can connect again.
    await client.send('40');
    assertConnectAnswer(await client.next(), '');
    assert.equal(await client.next(), '42["auth",{}]');
    client.close();
  });

  test('an event to "/" after its DISCONNECT closes the session', async () => {
    const { client } = await sioConnect(srv.url);
    await client.send('41');
    await client.send('42["message","late"]');
    await assertClosedByServer(client, 'event after DISCONNECT');
  });

  test('connect to "/custom", disconnect from it; "/" still echoes', async () => {
    const { client } = await sioConnect(srv.url);
    await client.send('40/custom');
    assertConnectAnswer(await client.next(), '/custom,');
    assert.equal(await client.next(), '42/custom,["auth",{}]');
    await client.send('41/custom');
    await client.send('42["message","message to main namespace"]');
    assert.equal(await client.next(), '42["message-back","message to main namespace"]');
    client.close();
  });

  test('events on "/custom" are echoed on "/custom"', async () => {
    const { client } = await sioConnect(srv.url);
    await client.send('40/custom,');
    assertConnectAnswer(await client.next(), '/custom,');
    assert.equal(await client.next(), '42/custom,["auth",{}]');
    await client.send('42/custom,["message","to custom"]');
    await client.send('42["message","to main"]');
    assert.deepEqual(await client.nextN(2), ['42/custom,["message-back","to custom"]', '42["message-back","to main"]']);
    client.close();
  });
});

describe('Socket.IO messages', () => {
  test('a plain event is echoed with the same arguments', async () => {
    const { client } = await sioConnect(srv.url);
    await client.send('42["message",1,"2",{"3":[true]}]');
    assert.equal(await client.next(), '42["message-back",1,"2",{"3":[true]}]');
    client.close();
  });

  test('unicode, nesting and null arguments are echoed unchanged', async () => {
    const { client } = await sioConnect(srv.url);
    const args = ['héllo ✓ 😀', null, [1.5, -2, { a: { b: [] } }], false, 'quote " and \\ backslash'];
    await client.send(`42${JSON.stringify(['message', ...args])}`);
    const frame = await client.next();
    assert.ok(frame.startsWith('42'), frame);
    assert.deepEqual(JSON.parse(frame.slice(2)), ['message-back', ...args]);
    client.close();
  });

  test('an event with binary attachments is echoed as 452- with the same attachments', async () => {
    const { client } = await sioConnect(srv.url);
    await client.send(`452-${JSON.stringify(['message', placeholder(0), placeholder(1)])}`);
    await client.send(Uint8Array.from([1, 2, 3]));
    await client.send(Uint8Array.from([4, 5, 6]));
    const [header, a, b] = await client.nextN(3);
    assert.equal(header, '452-["message-back",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]');
    assert.ok(Buffer.isBuffer(a) && Buffer.isBuffer(b), 'attachments are binary frames');
    assert.deepEqual([...a], [1, 2, 3]);
    assert.deepEqual([...b], [4, 5, 6]);
    client.close();
  });

  test('an event with ten attachments (the default limit) is accepted', async () => {
    const { client } = await sioConnect(srv.url);
    const ph = Array.from({ length: 10 }, (_, i) => placeholder(i));
    await client.send(`4510-${JSON.stringify(['message', ...ph])}`);
    for (let i = 0; i < 10; i += 1) await client.send(Buffer.from([i]));
    const frames = await client.nextN(11);
    assert.equal(frames[0], `4510-${JSON.stringify(['message-back', ...ph])}`);
    for (let i = 0; i < 10; i += 1) assert.deepEqual([...frames[i + 1]], [i]);
    client.close();
  });

  test('an event with an ack id is acked with its arguments', async () => {
    const { client } = await sioConnect(srv.url);
    await client.send('42456["message-with-ack",1,"2",{"3":[false]}]');
    assert.equal(await client.next(), '43456[1,"2",{"3":[false]}]');
    client.close();
  });

  test('ack ids 0 and large ones are kept', async () => {
    const { client } = await sioConnect(srv.url);
    await client.send('420["message-with-ack","zero"]');
    assert.equal(await client.next(), '430["zero"]');
    await client.send('422147483647["message-with-ack","big"]');
    assert.equal(await client.next(), '432147483647["big"]');
    client.close();
  });

  test('an ack on "/custom" carries the namespace', async () => {
    const { client } = await sioConnect(srv.url, { nsp: '/custom' });
    await client.send('42/custom,7["message-with-ack","x"]');
    assert.equal(await client.next(), '43/custom,7["x"]');
    client.close();
  });

  test('a binary event with an ack is answered with a binary ack (462-789)', async () => {
    const { client } = await sioConnect(srv.url);
    await client.send('452-789["message-with-ack",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]');
    await client.send(Uint8Array.from([1, 2, 3]));
    await client.send(Uint8Array.from([4, 5, 6]));
    const [header, a, b] = await client.nextN(3);
    assert.equal(header, '462-789[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]');
    assert.deepEqual([...a], [1, 2, 3]);
    assert.deepEqual([...b], [4, 5, 6]);
    client.close();
  });

  test('an ack for an id the server never used is ignored', async () => {
    const { client } = await sioConnect(srv.url);
    await client.send('4312["whatever"]');
    await assertAlive(client);
    client.close();
  });
});

describe('Socket.IO invalid input closes the session', () => {
  const cases = [
    ['unknown packet type', '4abc'],
    ['unknown packet type digit', '47["message"]'],
    ['event payload not an array', '42{}'],
    ['event payload an empty array', '42[]'],
    ['event name not a string', '42[{}]'],
    ['event with invalid JSON', '42["message",'],
    ['invalid ack id', '42abc["message-with-ack",1,"2",{"3":[false]}]'],
    ['negative ack id', '42-1["message-with-ack",1]'],
    ['ack id too large', '4299999999999999999999["message-with-ack",1]'],
    ['ack without an id', '43["x"]'],
    ['ack payload not an array', '431{"a":1}'],
    ['DISCONNECT with a payload', '41{"a":1}'],
    ['CONNECT_ERROR from the client', '44{"message":"no"}'],
    ['binary event without an attachment count', '45["message"]'],
  ];
  for (const [name, frame] of cases) {
    test(`${name}: ${frame.slice(0, 40)}`, async () => {
      const { client } = await sioConnect(srv.url);
      await client.send(frame);
      await assertClosedByServer(client, frame);
    });
  }

  test('an event to a namespace not connected closes the session', async () => {
    const { client } = await sioConnect(srv.url);
    await client.send('42/custom,["message","not connected"]');
    await assertClosedByServer(client, 'event to /custom');
  });

  test('a binary frame with no binary packet announced closes the session', async () => {
    const { client } = await sioConnect(srv.url);
    await client.send(Buffer.from([1, 2, 3]));
    await assertClosedByServer(client, 'stray binary');
  });

  test('lying attachment count: header says 2, three binaries are sent', async () => {
    const { client } = await sioConnect(srv.url);
    await client.send(`452-${JSON.stringify(['message', placeholder(0), placeholder(1)])}`);
    await client.send(Buffer.from([1]));
    await client.send(Buffer.from([2]));
    await client.send(Buffer.from([3]));
    await assertClosedByServer(client, 'a third attachment');
  });

  test('lying attachment count: header says 2, a text packet comes after one binary', async () => {
    const { client } = await sioConnect(srv.url);
    await client.send(`452-${JSON.stringify(['message', placeholder(0), placeholder(1)])}`);
    await client.send(Buffer.from([1]));
    await client.send('42["message","in between"]');
    await assertClosedByServer(client, 'text between attachments');
    assert.ok(!client.queue.some((f) => typeof f === 'string' && f.includes('message-back')), `echoed: ${JSON.stringify(client.queue)}`);
  });

  test('lying attachment count: a placeholder number beyond the count', async () => {
    const { client } = await sioConnect(srv.url);
    await client.send(`451-${JSON.stringify(['message', placeholder(0), placeholder(1)])}`);
    await client.send(Buffer.from([1]));
    await assertClosedByServer(client, 'placeholder num 1 with one attachment');
  });

  test('an attachment count over SOCKET_MAX_ATTACHMENTS (10) closes the session', async () => {
    const { client } = await sioConnect(srv.url);
    const ph = Array.from({ length: 11 }, (_, i) => placeholder(i));
    await client.send(`4511-${JSON.stringify(['message', ...ph])}`);
    await assertClosedByServer(client, '11 attachments');
  });

  test('an absurd attachment count closes the session at once', async () => {
    const { client } = await sioConnect(srv.url);
    await client.send('45999999999-["message",{"_placeholder":true,"num":0}]');
    await assertClosedByServer(client, 'huge count');
  });

  test('invalid input closes only that session, never the server', async () => {
    const bystander = await sioConnect(srv.url);
    const { client } = await sioConnect(srv.url);
    await client.send('42{}');
    await assertClosedByServer(client, '42{}');
    await assertAlive(bystander.client);
    const again = await sioConnect(srv.url);
    await assertAlive(again.client);
    bystander.client.close();
    again.client.close();
  });
});

describe('Socket.IO over polling', () => {
  test('CONNECT, the auth event, an event and a binary event over polling', async () => {
    const c = await PollingClient.open(srv.url, '/socket.io/');
    await c.post('40{"token":"p"}');
    assertConnectAnswer(await c.next(), '');
    assert.equal(await c.next(), '42["auth",{"token":"p"}]');
    await c.post(['42["message","over polling"]', '42["message","twice"]'].join(SEP));
    assert.equal(await c.next(), '42["message-back","over polling"]');
    assert.equal(await c.next(), '42["message-back","twice"]');
    // Binary attachments travel as "b" + base64.
    await c.post([`451-${JSON.stringify(['message', placeholder(0)])}`, `b${Buffer.from([9, 8, 7]).toString('base64')}`].join(SEP));
    assert.equal(await c.next(), '451-["message-back",{"_placeholder":true,"num":0}]');
    assert.equal(await c.next(), `b${Buffer.from([9, 8, 7]).toString('base64')}`);
    await c.post('423["message-with-ack"]');
    assert.equal(await c.next(), '433[]');
  });

  test('an invalid Socket.IO packet over polling closes the session', async () => {
    const c = await PollingClient.open(srv.url, '/socket.io/');
    await c.post('40');
    assertConnectAnswer(await c.next(), '');
    await c.next();  // auth
    const res = await pollPost(srv.url, '/socket.io/', c.sid, '42{}');
    // The Engine.IO packet itself is valid and read: "ok". The session is
    // closed meanwhile, and with nothing queued for it, it is gone at once:
    // the next poll finds no session (no close packet kept for it).
    assert.deepEqual([res.status, res.text], [200, 'ok']);
    const next = await pollGet(srv.url, '/socket.io/', c.sid);
    assert.deepEqual([next.status, next.body], [400, { code: 1, message: 'Session ID unknown' }]);
  });
});
