// MAX_CONNECTIONS_PER_IP and MAX_CONNECTIONS: what a refused client sees,
// that everyone else is unaffected, and that a slot frees when a socket
// closes.
// - MAX_CONNECTIONS_PER_IP bounds the Engine.IO sessions of one client
//   address from the handshake on, whatever the user: one more handshake is
//   refused with 403 {"code":4}, which socket.io-client reports as a
//   transport error ("xhr poll error" / "websocket error" with the 403);
//   HTTP from that address is not limited by it; with TRUST_PROXY=true the
//   address is the X-Forwarded-For client.
// - MAX_CONNECTIONS bounds open TCP connections (one more is closed at
//   accept, with no response, and counted in
//   parley_http_connections_refused_total) and Engine.IO sessions (a polling
//   handshake over it is 503 {"code":4,"message":"Forbidden"}).

import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, newUser, request, connectRaw, rawRequest, waitFor, uniqueEmail } from './lib/server.mjs';
import { TRANSPORT_MODES, ChatClient, connect, closeAll, closeSettled, sessionsDrained } from './lib/chat.mjs';

const servers = [];
after(async () => {
  closeAll();
  for (const s of servers) if (s.proc.exitCode === null && s.proc.signalCode === null) await s.stop();
});

async function server(env) {
  const s = await startServer({ env: { BCRYPT_ROUNDS: '4', RATE_LIMIT_DISABLED: '1', ...env } });
  servers.push(s);
  return s;
}

/** Opens a client and resolves once it is connected or refused. */
async function attempt(url, who, opts = {}) {
  const c = new ChatClient(url, { token: who.token, label: opts.label ?? who.name, ...opts });
  await c.until(() => c.connected || c.connectErrors.length > 0, { timeoutMs: 10_000, what: 'connect or connect_error' });
  return c;
}

/** Asserts that `c` was refused for its address: the handshake's 403, as the client reports it. */
function assertAddressFull(c, what = 'refused') {
  assert.equal(c.connected, false, `${what} must be refused`);
  const err = c.connectErrors[0];
  assert.ok(err, `${what}: a connect_error`);
  if (err.message === 'xhr poll error') {
    assert.equal(err.description, 403, what);
  } else {
    assert.equal(err.message, 'websocket error', what);
    assert.match(String(err.description?.message), /Unexpected server response: 403/, what);
  }
}

/** Retries until a socket of `who` connects (the server frees a slot once it has seen the close). */
function connectWhenFree(url, who, opts = {}) {
  return waitFor(async () => {
    const c = await attempt(url, who, opts);
    if (c.connected) return c;
    assertAddressFull(c, 'while the address is full');
    await closeSettled(c);
    return null;
  }, { timeoutMs: 5000, intervalMs: 50, what: 'a free connection slot' });
}

/** One request on its own connection with Connection: close (no idle keep-alive connection is left behind). */
async function closingRequest(port, method, pathname, { body, token } = {}) {
  const conn = await connectRaw(port);
  try {
    const headers = { Connection: 'close' };
    let payload;
    if (body !== undefined) { headers['Content-Type'] = 'application/json'; payload = JSON.stringify(body); }
    if (token) headers.Authorization = `Bearer ${token}`;
    await conn.write(rawRequest(method, pathname, { headers, body: payload }));
    const res = await conn.readResponse(5000);
    await conn.waitClosed(5000);
    return res;
  } finally { conn.destroy(); }
}

/** A keep-alive raw connection that has been served once (so the server counts it). */
async function heldConnection(port) {
  const conn = await connectRaw(port);
  await conn.write(rawRequest('GET', '/api/health'));
  const res = await conn.readResponse(5000);
  assert.equal(res.status, 200);
  return conn;
}

describe('MAX_CONNECTIONS_PER_IP', () => {
  for (const mode of TRANSPORT_MODES) {
    test(`one more socket from the address is refused at its handshake, whatever the user; HTTP is not limited; a close frees the slot (${mode.name})`, async () => {
      const srv = await server({ MAX_CONNECTIONS_PER_IP: '3' });
      const users = [];
      for (let i = 0; i < 4; i += 1) users.push(await newUser(srv.url, { name: `Ip U${i}` }));
      const open = [];
      try {
        for (let i = 0; i < 3; i += 1) open.push(await connect(srv.url, users[i], { ...mode.opts, label: `U${i}` }));
        for (const [who, label] of [[users[3], 'a fourth user'], [users[0], 'a second socket of a connected user']]) {
          const refused = await attempt(srv.url, who, { ...mode.opts, label });
          try {
            assertAddressFull(refused, label);
          } finally { await closeSettled(refused); }
        }
        // The connected sockets still work, and HTTP from the same address is served.
        const m = await open[0].send(users[1], 'still fine');
        await open[1].waitReceived(m._id);
        assert.equal((await request(srv.url, '/api/health')).status, 200);
        // A closed socket frees its slot for anyone from the address.
        await closeSettled(open.pop());
        open.push(await connectWhenFree(srv.url, users[3], { ...mode.opts, label: 'U3' }));
        const again = await attempt(srv.url, users[2], { ...mode.opts, label: 'U2 again' });
        try {
          assertAddressFull(again, 'the address is full again');
        } finally { await closeSettled(again); }
      } finally {
        for (const c of open) await closeSettled(c);
      }
      await sessionsDrained(srv.url);
      assert.equal(await srv.stop(), 0);
    });
  }

  test('sockets refused by the address limit do not use up the user\'s MAX_SOCKETS_PER_USER slots', async () => {
    const srv = await server({ MAX_CONNECTIONS_PER_IP: '2', MAX_SOCKETS_PER_USER: '2' });
    const a = await newUser(srv.url, { name: 'Slots A' });
    const b = await newUser(srv.url, { name: 'Slots B' });
    const ca = await connect(srv.url, a, { label: 'A1', transports: ['websocket'] });
    const cb = await connect(srv.url, b, { label: 'B1', transports: ['websocket'] });
    try {
      for (let i = 0; i < 5; i += 1) {
        const r = await attempt(srv.url, a, { label: `A refused ${i}`, transports: ['websocket'] });
        try { assertAddressFull(r, `A refused ${i}`); } finally { await closeSettled(r); }
      }
      cb.close();
      // A holds one socket: a second one is within its per-user limit of 2.
      const a2 = await connectWhenFree(srv.url, a, { label: 'A2', transports: ['websocket'] });
      a2.close();
    } finally {
      ca.close();
      cb.close();
    }
    await sessionsDrained(srv.url);
    assert.equal(await srv.stop(), 0);
  });

  for (const mode of TRANSPORT_MODES) {
    test(`with TRUST_PROXY=true the limit counts the X-Forwarded-For client (${mode.name})`, async () => {
      const srv = await server({ MAX_CONNECTIONS_PER_IP: '2', TRUST_PROXY: 'true' });
      const users = [];
      for (let i = 0; i < 5; i += 1) users.push(await newUser(srv.url, { name: `Proxy U${i}` }));
      const via = (ip) => ({ ...mode.opts, extraHeaders: { 'x-forwarded-for': `${ip}, 10.0.0.1` } });
      const open = [];
      try {
        open.push(await connect(srv.url, users[0], { ...via('203.0.113.1'), label: '.1 first' }));
        open.push(await connect(srv.url, users[1], { ...via('203.0.113.1'), label: '.1 second' }));
        const third = await attempt(srv.url, users[2], { ...via('203.0.113.1'), label: '.1 third' });
        try {
          assertAddressFull(third, 'a third from 203.0.113.1');
        } finally { await closeSettled(third); }
        // Other clients behind the same proxy are counted on their own.
        const other = await attempt(srv.url, users[3], { ...via('203.0.113.2'), label: '.2' });
        open.push(other);
        assert.equal(other.connected, true, `203.0.113.2 refused: ${other.connectErrors[0]?.message}`);
        const other2 = await attempt(srv.url, users[4], { ...via('203.0.113.3'), label: '.3' });
        open.push(other2);
        assert.equal(other2.connected, true, `203.0.113.3 refused: ${other2.connectErrors[0]?.message}`);
      } finally {
        for (const c of open) await closeSettled(c);
      }
      await sessionsDrained(srv.url);
      assert.equal(await srv.stop(), 0);
    });
  }
});

describe('MAX_CONNECTIONS', () => {
  test('a TCP connection over the limit is closed at accept with no response; clients get a transport error; a close frees a slot', async () => {
    const LIMIT = 4;
    const srv = await server({ MAX_CONNECTIONS: String(LIMIT) });
    // Registered over a closing connection: no idle keep-alive connection of this process stays open.
    const reg = await closingRequest(srv.port, 'POST', '/api/auth/register', {
      body: { name: 'Conn Max', email: uniqueEmail('max'), password: 'correct horse battery' },
    });
    assert.equal(reg.status, 201, reg.text);
    const token = reg.body.token;
    await waitFor(async () => {
      const res = await closingRequest(srv.port, 'GET', '/metrics');
      return /^parley_http_open_connections 1$/m.test(res.text);
    }, { timeoutMs: 5000, what: 'no connection open but the probe' });

    const held = [];
    try {
      for (let i = 0; i < LIMIT; i += 1) held.push(await heldConnection(srv.port));
      // One more: accepted by the kernel, closed by the server, no byte of response.
      const extra = await connectRaw(srv.port);
      await extra.write(rawRequest('GET', '/api/health'));
      await extra.waitClosed(5000);
      assert.equal(extra.buf.length, 0, `a refused connection gets no response: ${extra.buf.toString('latin1')}`);
      extra.destroy();
      // socket.io-client, either transport: a transport error, not a CONNECT_ERROR from the server.
      for (const transports of [['websocket'], ['polling']]) {
        const c = new ChatClient(srv.url, { token, transports, label: transports[0] });
        try {
          const err = await c.connectError();
          assert.equal(err.type, 'TransportError', `${transports[0]}: ${err.message}`);
        } finally { c.close(); }
      }
      // The held connections are unaffected.
      for (const conn of held) {
        await conn.write(rawRequest('GET', '/api/health'));
        assert.equal((await conn.readResponse(5000)).status, 200);
      }
      // Closing one frees a slot (once the server has seen the close).
      held.shift().destroy();
      const fresh = await waitFor(async () => {
        let conn;
        try {
          conn = await connectRaw(srv.port);
          await conn.write(rawRequest('GET', '/metrics'));
          const res = await conn.readResponse(5000);
          return { conn, res };
        } catch {
          conn?.destroy();
          return null;
        }
      }, { timeoutMs: 5000, intervalMs: 50, what: 'a freed connection slot' });
      held.push(fresh.conn);
      assert.equal(fresh.res.status, 200);
      const open = fresh.res.text.match(/^parley_http_open_connections (\d+)$/m);
      assert.equal(Number(open?.[1]), LIMIT, 'the three held connections and this one');
      const refused = Number(fresh.res.text.match(/^parley_http_connections_refused_total (\d+)$/m)?.[1]);
      assert.ok(refused >= 3, `refused connections counted: ${refused}`);
    } finally {
      for (const conn of held) conn.destroy();
    }
    assert.equal(await srv.stop(), 0);
  });

  test('Engine.IO sessions are bounded by it too: a handshake over it is refused with code 4; a closed session frees it', async () => {
    const LIMIT = 3;
    const srv = await server({ MAX_CONNECTIONS: String(LIMIT) });
    const conn = await connectRaw(srv.port);
    const handshake = async () => {
      await conn.write(rawRequest('GET', '/socket.io/?EIO=4&transport=polling'));
      return conn.readResponse(5000);
    };
    try {
      const sids = [];
      for (let i = 0; i < LIMIT; i += 1) {
        const res = await handshake();
        assert.equal(res.status, 200, res.text);
        assert.ok(res.text.startsWith('0{'), res.text);
        sids.push(JSON.parse(res.text.slice(1)).sid);
      }
      const over = await handshake();
      assert.equal(over.status, 503, over.text);
      assert.deepEqual(JSON.parse(over.text), { code: 4, message: 'Forbidden' });
      // A WebSocket handshake is refused too, before the 101.
      const ws = await connectRaw(srv.port);
      try {
        await ws.write(rawRequest('GET', '/socket.io/?EIO=4&transport=websocket', {
          headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==' },
        }));
        const refused = await ws.readResponse(5000);
        assert.notEqual(refused.status, 101);
        assert.deepEqual(JSON.parse(refused.text), { code: 4, message: 'Forbidden' });
      } finally { ws.destroy(); }
      // The client closes one session: a handshake succeeds again.
      const closeSession = async (sid) => {
        await conn.write(rawRequest('POST', `/socket.io/?EIO=4&transport=polling&sid=${encodeURIComponent(sid)}`, {
          headers: { 'Content-Type': 'text/plain;charset=UTF-8' }, body: '1',
        }));
        const res = await conn.readResponse(5000);
        assert.equal(res.status, 200, res.text);
        assert.equal(res.text, 'ok');
      };
      await closeSession(sids.shift());
      const again = await waitFor(async () => {
        const res = await handshake();
        return res.status === 200 ? res : null;
      }, { timeoutMs: 5000, intervalMs: 50, what: 'a freed session slot' });
      assert.ok(again.text.startsWith('0{'), again.text);
      sids.push(JSON.parse(again.text.slice(1)).sid);
      // Every session is closed by its client before the stop: a polling
      // session left idle at SIGTERM may have its close posted too late for
      // the I/O threads, which the ASan build reports as a leak (exit by
      // SIGABRT). That is a shutdown issue of its own, not this test's.
      for (const sid of sids) await closeSession(sid);
    } finally { conn.destroy(); }
    assert.equal(await srv.stop(), 0);
  });
});
