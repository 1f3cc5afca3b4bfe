// The production defaults, with NODE_ENV=production and a JWT secret and no
// other setting: the Engine.IO handshake announces pingInterval 25000,
// pingTimeout 20000 and maxPayload 1000000 on both transports; only the "/"
// namespace exists (another one, including the protocol-test "/custom", gets
// CONNECT_ERROR "Invalid namespace" and the session goes on); nothing of
// PROTOCOL_TEST_MODE is served (no /engine.io/ echo, no echo events, no CORS
// for any origin); and PROTOCOL_TEST_MODE itself is refused at start.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, runToExit, newUser, request } from './lib/server.mjs';
import { wsOpen, pollingHandshake, pollPost } from './lib/eio.mjs';
import { assertError } from './lib/checks.mjs';
import { ChatClient, connect, closeAll, closeSettled, sessionsDrained } from './lib/chat.mjs';

// Every setting that would change what is checked here is left unset.
const PRODUCTION = {
  NODE_ENV: 'production',
  PING_INTERVAL_MS: undefined,
  PING_TIMEOUT_MS: undefined,
  MAX_PAYLOAD_BYTES: undefined,
  PROTOCOL_TEST_MODE: undefined,
  CLIENT_URL: undefined,
  RATE_LIMIT_DISABLED: undefined,
};

const HANDSHAKE_KEYS = ['maxPayload', 'pingInterval', 'pingTimeout', 'sid', 'upgrades'];

function assertProductionHandshake(hs, upgrades) {
  assert.deepEqual(Object.keys(hs).sort(), HANDSHAKE_KEYS, JSON.stringify(hs));
  assert.equal(hs.pingInterval, 25000);
  assert.equal(hs.pingTimeout, 20000);
  assert.equal(hs.maxPayload, 1000000);
  assert.deepEqual(hs.upgrades, upgrades);
  assert.equal(typeof hs.sid, 'string');
  assert.ok(hs.sid.length > 0);
}

describe('production defaults', () => {
  let srv;
  before(async () => { srv = await startServer({ env: PRODUCTION }); });
  after(async () => {
    closeAll();
    if (!srv) return;
    try {
      await sessionsDrained(srv.url);
    } finally {
      assert.equal(await srv.stop(), 0, 'parleyd exits 0 after SIGTERM');
    }
  });

  test('the polling handshake announces pingInterval 25000, pingTimeout 20000, maxPayload 1000000', async () => {
    const hs = await pollingHandshake(srv.url, '/socket.io/');
    assertProductionHandshake(hs, ['websocket']);
    // Closed by the client, so no idle polling session is left at the stop.
    const closed = await pollPost(srv.url, '/socket.io/', hs.sid, '1');
    assert.equal(closed.text, 'ok');
  });

  test('the WebSocket handshake announces the same, with no upgrades', async () => {
    const { client, handshake } = await wsOpen(srv.url, '/socket.io/');
    try {
      assertProductionHandshake(handshake, []);
    } finally { client.close(); }
  });

  test('socket.io-client connects to "/"; any other namespace gets CONNECT_ERROR "Invalid namespace"', async () => {
    const a = await newUser(srv.url, { name: 'Prod A' });
    const main = await connect(srv.url, a, { label: 'main' });
    await closeSettled(main);
    for (const nsp of ['/custom', '/admin', '/socket.io', '/chat/room']) {
      for (const transports of [undefined, ['websocket']]) {
        const c = new ChatClient(`${srv.url}${nsp}`, { token: a.token, transports, label: nsp });
        try {
          const err = await c.connectError();
          assert.equal(err.message, 'Invalid namespace', `${nsp} (${transports ?? 'default'})`);
        } finally { await closeSettled(c); }
      }
    }
  });

  test('on one session: CONNECT to another namespace is refused and "/" still connects; no protocol-test echo', async () => {
    const a = await newUser(srv.url, { name: 'Prod Raw' });
    const { client } = await wsOpen(srv.url, '/socket.io/');
    try {
      await client.send(`40/custom,${JSON.stringify({ token: a.token })}`);
      assert.equal(await client.next(3000, 'the CONNECT_ERROR'), '44/custom,{"message":"Invalid namespace"}');
      await client.send(`40${JSON.stringify({ token: a.token })}`);
      const ok = await client.next(3000, 'the CONNECT answer');
      assert.match(ok, /^40\{"sid":"[^"]+"\}$/);
      assert.match(await client.next(3000, 'users:online'), /^42\["users:online",/);
      // The test mode's echo of "message" is not there: the next frame is the ack of user:connect.
      await client.send('42["message","echo?"]');
      await client.send(`421["user:connect",${JSON.stringify({ userId: a.user._id })}]`);
      assert.equal(await client.next(3000, 'the user:connect ack'), '431[{"ok":true}]');
      // An event to a namespace this session is not connected to closes the session.
      await client.send(`42/custom,["message","x"]`);
      await client.waitClose(3000);
    } finally { client.close(); }
  });

  test('no /engine.io/ echo endpoint and no CORS for an unlisted origin', async () => {
    assertError(await request(srv.url, '/engine.io/?EIO=4&transport=polling'), 404, 'not_found');
    for (const pathname of ['/api/health', '/socket.io/?EIO=4&transport=polling']) {
      const res = await request(srv.url, pathname, { headers: { origin: 'http://evil.example' } });
      assert.equal(res.status, 200, `${pathname}: ${res.text}`);
      assert.equal(res.headers.get('access-control-allow-origin'), null, `${pathname}: no CORS for an unlisted origin`);
      assert.equal(res.headers.get('access-control-allow-credentials'), null);
      if (pathname.startsWith('/socket.io/')) {
        // Closed by the client, so no idle polling session is left at the stop.
        assert.equal((await pollPost(srv.url, '/socket.io/', JSON.parse(res.text.slice(1)).sid, '1')).text, 'ok');
      }
    }
  });
});

test('PROTOCOL_TEST_MODE is refused in production: exit 2 with one line naming it, never listening', async () => {
  for (const value of ['1', 'true']) {
    const r = await runToExit({ env: { ...PRODUCTION, PROTOCOL_TEST_MODE: value } });
    assert.equal(r.timedOut, false);
    assert.equal(r.code, 2, `PROTOCOL_TEST_MODE=${value}: exit ${r.code} ${r.signal}; stderr: ${r.stderr}`);
    assert.equal(r.listened, false);
    const lines = r.stderr.split('\n').filter((l) => l.length > 0);
    assert.equal(lines.length, 1, `one line on stderr: ${r.stderr}`);
    assert.match(lines[0], /PROTOCOL_TEST_MODE/);
    assert.match(lines[0], /production/);
  }
  // The same setting starts outside production (the protocol suites rely on it).
  const dev = await startServer({ env: { ...PRODUCTION, NODE_ENV: 'development', PROTOCOL_TEST_MODE: '1' } });
  try {
    const res = await request(dev.url, '/engine.io/?EIO=4&transport=polling');
    assert.equal(res.status, 200, res.text);
  } finally { assert.equal(await dev.stop(), 0); }
});
