// End to end with the official socket.io-client 4.x from npm against parleyd
// in PROTOCOL_TEST_MODE (namespaces "/" and "/custom"; "auth" event with the
// CONNECT payload; "message" echoed as "message-back"; "message-with-ack"
// acked with its arguments).

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { awaitedLater, waitFor } from './lib/server.mjs';
import { metricValue, startWatchedServer } from './lib/eio.mjs';
import { Inbox, bytes, connectClient, isBinary, newClient, nextEvent } from './lib/sio_client.mjs';

/** Rejects when the socket disconnects (with the reason). */
function failOnDisconnect(socket) {
  return awaitedLater(new Promise((_, reject) => {
    socket.once('disconnect', (reason, details) => reject(new Error(`the client was disconnected: ${reason} ${details?.description?.message ?? details?.message ?? ''}`)));
  }));
}

const TEST_ENV = { PROTOCOL_TEST_MODE: '1', RATE_LIMIT_DISABLED: '1' };

const TRANSPORT_CASES = [
  ['default transports (polling, then upgrade)', {}],
  ['transports: ["websocket"]', { transports: ['websocket'] }],
  ['transports: ["polling"]', { transports: ['polling'] }],
];

describe('socket.io-client against parleyd', () => {
  let srv;
  before(async () => { srv = await startWatchedServer({ env: TEST_ENV }); });
  after(async () => { if (srv) assert.equal(await srv.stop(), 0); });

  test('default transports: connects over polling, then upgrades to websocket', async () => {
    const socket = newClient(srv.url);
    const inbox = new Inbox(socket, ['message-back', 'auth']);
    const [first] = await Promise.all([
      nextEvent(socket.io, 'open', 5000).then(() => socket.io.engine.transport.name),
      nextEvent(socket, 'connect', 5000, { failOn: ['connect_error'] }),
    ]);
    assert.equal(first, 'polling', 'the first transport is polling');
    assert.deepEqual(await inbox.next('auth'), [{}]);
    await waitFor(() => socket.io.engine.transport.name === 'websocket', { timeoutMs: 5000, what: 'the upgrade to websocket' });
    assert.equal(socket.connected, true);
    socket.emit('message', 'after upgrade', 42);
    assert.deepEqual(await inbox.next('message-back'), ['after upgrade', 42]);
    socket.close();
  });

  test('transports: ["websocket"] stays on websocket', async () => {
    const { socket, inbox } = await connectClient(srv.url, { transports: ['websocket'] });
    assert.equal(socket.io.engine.transport.name, 'websocket');
    socket.emit('message', { a: [1, 'two', null] });
    assert.deepEqual(await inbox.next('message-back'), [{ a: [1, 'two', null] }]);
    socket.close();
  });

  test('transports: ["polling"] stays on polling and exchanges many events', async () => {
    const { socket, inbox } = await connectClient(srv.url, { transports: ['polling'] });
    assert.equal(socket.io.engine.transport.name, 'polling');
    for (let i = 0; i < 20; i += 1) socket.emit('message', i, `text-${i}`);
    for (let i = 0; i < 20; i += 1) assert.deepEqual(await inbox.next('message-back'), [i, `text-${i}`]);
    assert.equal(socket.io.engine.transport.name, 'polling');
    socket.close();
  });

  test('the auth option reaches the server as the CONNECT payload', async () => {
    const { socket, inbox } = await connectClient(srv.url, { transports: ['websocket'], auth: { token: 'abc', n: 1 } });
    assert.deepEqual(await inbox.next('auth'), [{ token: 'abc', n: 1 }]);
    socket.close();
  });

  test('socket.id is the sid of the CONNECT answer and differs between clients', async () => {
    const a = await connectClient(srv.url, { transports: ['websocket'] });
    const b = await connectClient(srv.url, { transports: ['websocket'] });
    assert.equal(typeof a.socket.id, 'string');
    assert.ok(a.socket.id.length > 0);
    assert.notEqual(a.socket.id, b.socket.id);
    a.socket.close();
    b.socket.close();
  });

  test('the "/custom" namespace connects and echoes; an unknown one gets "Invalid namespace"', async () => {
    const { socket, inbox } = await connectClient(`${srv.url}/custom`, { auth: { via: 'custom' } });
    assert.deepEqual(await inbox.next('auth'), [{ via: 'custom' }]);
    socket.emit('message', 'on custom');
    assert.deepEqual(await inbox.next('message-back'), ['on custom']);
    socket.close();

    const bad = newClient(`${srv.url}/random`);
    const [err] = await nextEvent(bad, 'connect_error', 5000, { failOn: ['connect'] });
    assert.equal(err.message, 'Invalid namespace');
    bad.close();
  });

  test('two namespaces multiplexed on one connection', async () => {
    const main = newClient(srv.url, { forceNew: true, transports: ['websocket'] });
    const mainInbox = new Inbox(main, ['message-back']);
    await nextEvent(main, 'connect', 5000, { failOn: ['connect_error'] });
    const custom = main.io.socket('/custom');
    const customInbox = new Inbox(custom, ['message-back']);
    custom.connect();
    await nextEvent(custom, 'connect', 5000, { failOn: ['connect_error'] });
    main.emit('message', 'to main');
    custom.emit('message', 'to custom');
    assert.deepEqual(await mainInbox.next('message-back'), ['to main']);
    assert.deepEqual(await customInbox.next('message-back'), ['to custom']);
    custom.disconnect();
    main.emit('message', 'main still works');
    assert.deepEqual(await mainInbox.next('message-back'), ['main still works']);
    main.close();
  });

  for (const [name, opts] of TRANSPORT_CASES) {
    describe(name, () => {
      test('client -> server ack: the callback gets the acked arguments', async () => {
        const { socket } = await connectClient(srv.url, opts);
        const args = await new Promise((resolve, reject) => {
          const t = setTimeout(() => reject(new Error('no ack')), 5000);
          socket.emit('message-with-ack', 1, '2', { 3: [false] }, (...a) => { clearTimeout(t); resolve(a); });
        });
        assert.deepEqual(args, [1, '2', { 3: [false] }]);
        const viaPromise = await socket.timeout(5000).emitWithAck('message-with-ack', 'promised');
        assert.equal(viaPromise, 'promised');
        socket.close();
      });

      test('many acks in flight resolve each to its own call', async () => {
        const { socket } = await connectClient(srv.url, opts);
        const results = await Promise.all(Array.from({ length: 50 }, (_, i) => socket.timeout(5000).emitWithAck('message-with-ack', i)));
        assert.deepEqual(results, Array.from({ length: 50 }, (_, i) => i));
        socket.close();
      });

      test('binary payloads both ways: Buffer, Uint8Array and nested binaries are echoed', async () => {
        const { socket, inbox } = await connectClient(srv.url, opts);
        const big = Buffer.alloc(20000);
        for (let i = 0; i < big.length; i += 1) big[i] = (i * 31) & 0xff;
        socket.emit('message', Buffer.from([1, 2, 3]), { nested: Uint8Array.from([4, 5]), list: [Buffer.from([]), 'text'] }, big);
        const [a, obj, c] = await inbox.next('message-back');
        assert.ok(isBinary(a), `first argument is binary: ${typeof a}`);
        assert.deepEqual(bytes(a), [1, 2, 3]);
        assert.deepEqual(bytes(obj.nested), [4, 5]);
        assert.deepEqual(bytes(obj.list[0]), []);
        assert.equal(obj.list[1], 'text');
        assert.equal(bytes(c).length, big.length);
        assert.ok(Buffer.from(bytes(c)).equals(big), 'the 20 kB attachment came back intact');
        socket.close();
      });

      test('events far over the HTTP body limit but under maxPayload pass: 300 kB text, 300 kB binary', async () => {
        const { socket, inbox } = await connectClient(srv.url, opts);
        if (!opts.transports) {
          // Deterministic: after the upgrade (polling alone is the next case).
          await waitFor(() => socket.io.engine.transport.name === 'websocket', { timeoutMs: 5000, what: 'the upgrade' });
        }
        const dropped = failOnDisconnect(socket);
        const text = 't'.repeat(300000);
        socket.emit('message', text);
        assert.deepEqual(await Promise.race([inbox.next('message-back'), dropped]), [text]);
        const bin = Buffer.alloc(300000, 0xab);
        socket.emit('message', bin);
        const [back] = await Promise.race([inbox.next('message-back'), dropped]);
        assert.ok(Buffer.from(bytes(back)).equals(bin));
        assert.equal(socket.connected, true);
        socket.close();
      });

      test('binary ack: an ack with binary arguments', async () => {
        const { socket } = await connectClient(srv.url, opts);
        const ack = await socket.timeout(5000).emitWithAck('message-with-ack', Buffer.from([9, 8, 7]));
        assert.ok(isBinary(ack));
        assert.deepEqual(bytes(ack), [9, 8, 7]);
        socket.close();
      });
    });
  }

  test('200 clients at once all connect and get their own echo', async () => {
    const baseline = await metricValue(srv.url, 'parley_eio_sessions');
    const N = 200;
    const clients = await Promise.all(Array.from({ length: N }, (_, i) => {
      const opts = i % 2 === 0 ? { transports: ['websocket'] } : {};
      return connectClient(srv.url, { ...opts, timeout: 20000 }, ['message-back']);
    }));
    try {
      const echoes = await Promise.all(clients.map(async ({ socket, inbox }, i) => {
        socket.emit('message', `client-${i}`, Buffer.from([i & 0xff]));
        const [text, bin] = await inbox.next('message-back', 20000);
        return `${text}:${bytes(bin)[0]}`;
      }));
      assert.deepEqual(echoes, Array.from({ length: N }, (_, i) => `client-${i}:${i & 0xff}`));
      const ids = new Set(clients.map(({ socket }) => socket.id));
      assert.equal(ids.size, N, 'every client has its own socket id');
      const open = await metricValue(srv.url, 'parley_eio_sessions');
      assert.ok(open >= N, `the sessions gauge counts them: ${open}`);
    } finally {
      for (const { socket } of clients) socket.close();
    }
    await waitFor(async () => (await metricValue(srv.url, 'parley_eio_sessions')) <= baseline,
      { timeoutMs: 10000, what: 'the sessions of the closed clients to end' });
  });
});

describe('payload over MAX_PAYLOAD_BYTES=1000', () => {
  let srv;
  before(async () => { srv = await startWatchedServer({ env: { ...TEST_ENV, MAX_PAYLOAD_BYTES: '1000' } }); });
  after(async () => { if (srv) assert.equal(await srv.stop(), 0); });

  for (const [name, opts] of TRANSPORT_CASES) {
    test(`${name}: a small event passes, a 5000-byte one disconnects the client`, async () => {
      const { socket, inbox } = await connectClient(srv.url, opts);
      if (!opts.transports) {
        await waitFor(() => socket.io.engine.transport.name === 'websocket', { timeoutMs: 5000, what: 'the upgrade' });
      }
      socket.emit('message', 'x'.repeat(500));
      assert.deepEqual(await inbox.next('message-back'), ['x'.repeat(500)]);
      const disconnected = nextEvent(socket, 'disconnect', 5000);
      socket.emit('message', 'y'.repeat(5000));
      const [reason, details] = await disconnected;
      const seen = `disconnect reason: ${reason}, ${details?.description?.message ?? details?.description}`;
      if (opts.transports?.[0] === 'polling') {
        // The server answers the POST 413 and, at the same moment, the held
        // GET with a close packet; the client reports whichever response it
        // handles first, so each is checked for exactly what it must be.
        if (reason === 'transport error') assert.equal(details?.description, 413, seen);
        else assert.deepEqual([reason, details?.description], ['transport close', 'transport closed by the server'], seen);
      } else {
        // WebSocket: the server closes the connection.
        assert.equal(reason, 'transport close', seen);
      }
      assert.equal(socket.connected, false);
      socket.close();
    });
  }
});

describe('reconnection', () => {
  let srv;
  before(async () => { srv = await startWatchedServer({ env: TEST_ENV }); });
  after(async () => { if (srv) assert.equal(await srv.stop(), 0); });

  const RECONNECT = { reconnection: true, reconnectionDelay: 100, reconnectionDelayMax: 300, randomizationFactor: 0 };

  for (const [name, opts] of TRANSPORT_CASES) {
    test(`${name}: after the server closes the session for a protocol error, the client reconnects`, async () => {
      const { socket, inbox } = await connectClient(srv.url, { ...opts, ...RECONNECT });
      try {
        const firstId = socket.id;
        // Generous deadlines: under a sanitizer build and a loaded machine the
        // close can take a while to surface through a polling upgrade.
        const disconnected = nextEvent(socket, 'disconnect', 15000);
        const reconnected = awaitedLater(nextEvent(socket.io, 'reconnect', 20000));
        // An Engine.IO message that is not a valid Socket.IO packet: the server closes the session.
        const transport = socket.io.engine.transport.name;
        socket.io.engine.write('not a socket.io packet');
        const [reason, details] = await disconnected;
        const seen = `${transport}: disconnect reason ${reason}, ${details?.description?.message ?? details?.description}`;
        if (transport === 'polling' && reason === 'transport error') {
          // No GET of the client was pending when the server closed the
          // session, and the server keeps no close packet for a later one:
          // the next poll finds no session.
          assert.equal(details?.description, 400, seen);
        } else {
          // The close packet on the pending GET, or the WebSocket closed.
          assert.equal(reason, 'transport close', seen);
        }
        await reconnected;
        await waitFor(() => socket.connected, { timeoutMs: 5000, what: 'the socket to connect again' });
        assert.notEqual(socket.id, firstId, 'a new session');
        socket.emit('message', 'back again');
        assert.deepEqual(await inbox.next('message-back'), ['back again']);
      } finally {
        socket.close();  // never leave a reconnecting client behind
      }
    });
  }

  test('after engine.close() the client reconnects', async () => {
    const { socket, inbox } = await connectClient(srv.url, { ...RECONNECT });
    const disconnected = nextEvent(socket, 'disconnect', 5000);
    const reconnected = nextEvent(socket.io, 'reconnect', 10000);
    socket.io.engine.close();
    await disconnected;
    await reconnected;
    await waitFor(() => socket.connected, { timeoutMs: 5000, what: 'the socket to connect again' });
    socket.emit('message', 'after engine.close');
    assert.deepEqual(await inbox.next('message-back'), ['after engine.close']);
    socket.close();
  });

  test('after the server stops and a new one starts on the same port, the client reconnects', async () => {
    // A port that is free now, so that the restarted server can take it again.
    const port = await new Promise((resolve, reject) => {
      const s = net.createServer();
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
    });
    let first = await startWatchedServer({ env: { ...TEST_ENV, PORT: String(port) } });
    let second;
    const socket = newClient(first.url, { ...RECONNECT, reconnectionAttempts: 100 });
    const inbox = new Inbox(socket, ['message-back']);
    try {
      await nextEvent(socket, 'connect', 5000, { failOn: ['connect_error'] });
      // On the WebSocket, so that the shutdown reaches the client as one
      // close (a polling client might find the server gone between polls).
      await waitFor(() => socket.io.engine.transport.name === 'websocket', { what: 'the upgrade' });
      const disconnected = nextEvent(socket, 'disconnect', 10000);
      assert.equal(await first.stop(), 0);
      first = null;
      const [reason] = await disconnected;
      // The shutdown closes the session like a transport close, not with a
      // Socket.IO DISCONNECT (that would stop reconnection).
      assert.equal(reason, 'transport close');
      const reconnected = nextEvent(socket.io, 'reconnect', 15000);
      second = await startWatchedServer({ env: { ...TEST_ENV, PORT: String(port) } });
      assert.equal(second.port, port);
      await reconnected;
      await waitFor(() => socket.connected, { timeoutMs: 5000, what: 'the socket to connect again' });
      socket.emit('message', 'new server');
      assert.deepEqual(await inbox.next('message-back'), ['new server']);
    } finally {
      socket.close();
      if (first) assert.equal(await first.stop(), 0);
      if (second) assert.equal(await second.stop(), 0);
    }
  });
});
