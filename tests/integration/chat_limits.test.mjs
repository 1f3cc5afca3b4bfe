// Per-user limits on the socket: message sends per second (token bucket,
// RATE_LIMIT_MESSAGES_PER_SEC / RATE_LIMIT_MESSAGES_BURST; over it an error
// ack and nothing stored), typing events (about 5/s, extras dropped), and
// MAX_SOCKETS_PER_USER (CONNECT_ERROR "too many connections").

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, newUser, waitFor, decodeJwt, CLOCK_SLACK_MS } from './lib/server.mjs';
import { history, send as httpSend } from './lib/messages.mjs';
import { TRANSPORT_MODES, ChatClient, connect, barrier, closeAll } from './lib/chat.mjs';

const RATE = 4;  // slow refill: a slow (sanitizer) run still sees the bucket empty
const BURST = 50;

const TOKEN_LIFETIME_S = 2;

let limited;
let sockets;
let shortTokens;
before(async () => {
  limited = await startServer({ env: { BCRYPT_ROUNDS: '4', RATE_LIMIT_MESSAGES_PER_SEC: String(RATE), RATE_LIMIT_MESSAGES_BURST: String(BURST), RATE_LIMIT_AUTH_PER_MIN: '10000' } });
  sockets = await startServer({ env: { BCRYPT_ROUNDS: '4', RATE_LIMIT_DISABLED: '1', MAX_SOCKETS_PER_USER: '3' } });
  shortTokens = await startServer({ env: { BCRYPT_ROUNDS: '4', RATE_LIMIT_DISABLED: '1', JWT_EXPIRES_IN: String(TOKEN_LIFETIME_S) } });
});
after(async () => {
  closeAll();
  for (const s of [limited, sockets, shortTokens]) if (s) assert.equal(await s.stop(), 0);
});

for (const mode of TRANSPORT_MODES) {
  const T = mode.opts;
  describe(`limits (${mode.name})`, () => {
    test('message:send over the rate: rate_limited acks, nothing stored or emitted for them; the bucket refills', async () => {
      const srv = limited;
      const a = await newUser(srv.url, { name: 'Rate A' });
      const b = await newUser(srv.url, { name: 'Rate B' });
      const c = await newUser(srv.url, { name: 'Rate C' });
      const ca = await connect(srv.url, a, { ...T, label: 'A' });
      const cb = await connect(srv.url, b, { ...T, label: 'B', autoAck: true });
      try {
        const N = BURST + 40;
        const t0 = Date.now();
        const acks = await Promise.all(Array.from({ length: N }, (_, i) => ca.call('message:send', { to: b.user._id, text: `r${i}` })));
        // HTTP shares the bucket: right after the burst, 20 sends at once get
        // only what refilled meanwhile (a fresh bucket would take them all).
        const viaHttp = await Promise.all(Array.from({ length: 20 }, (_, i) => httpSend(srv.url, a, b, `over http ${i}`)));
        const elapsed = (Date.now() - t0) / 1000;
        const okHttp = viaHttp.filter((r) => r.status === 201);
        const refusedHttp = viaHttp.filter((r) => r.status !== 201);
        assert.ok(refusedHttp.length > 0, `every HTTP send went through: the socket burst did not drain the bucket HTTP uses`);
        for (const r of refusedHttp) {
          assert.equal(r.status, 429, r.text);
          assert.equal(r.body.error, 'rate_limited');
          assert.ok(Number(r.headers.get('retry-after')) >= 1);
        }
        const ok = acks.filter((x) => x.ok);
        const limitedAcks = acks.filter((x) => !x.ok);
        for (const x of limitedAcks) {
          assert.equal(x.error, 'rate_limited', JSON.stringify(x));
          assert.equal(typeof x.message, 'string');
          assert.ok(x.message.length > 0);
        }
        assert.ok(ok.length >= BURST, `at least the burst goes through: ${ok.length}`);
        // One bucket: what both got through is the burst plus what refilled.
        assert.ok(ok.length + okHttp.length <= BURST + Math.ceil(elapsed * RATE) + 1, `${ok.length} + ${okHttp.length} accepted in ${elapsed} s`);
        assert.ok(limitedAcks.length > 0, 'some sends are limited');
        // Only the accepted ones are stored, and only they reach B.
        const accepted = new Set([...ok.map((x) => x.message._id), ...okHttp.map((r) => r.body._id)]);
        const h = await history(srv.url, b, a.user._id, { limit: 200 });
        assert.deepEqual(new Set(h.body.map((m) => m._id)), accepted);
        await barrier(srv.url, c, b, [cb]);
        assert.deepEqual(new Set(cb.all('message:received', (p) => p.message.from === a.user._id).map((e) => e.args[0].message._id)), accepted);
        assert.equal(cb.all('message:received', (p) => p.message.from === a.user._id).length, accepted.size);
        // Others are not limited by A's bucket.
        const cc = await connect(srv.url, c, { ...T, label: 'C' });
        try { await cc.send(b, 'C is fine'); } finally { cc.close(); }
        // The bucket refills at RATE per second.
        const later = await waitFor(async () => {
          const r = await ca.call('message:send', { to: b.user._id, text: 'after the pause' });
          return r.ok ? r : null;
        }, { timeoutMs: 10_000, intervalMs: 1000 / RATE, what: 'a refilled token' });
        assert.equal(later.message.text, 'after the pause');
      } finally {
        ca.close(); cb.close();
      }
    });

    test('typing is rate-limited per user (about 5/s): extra events are dropped, others still relayed', async () => {
      const srv = limited;
      const a = await newUser(srv.url, { name: 'TypeRate A' });
      const b = await newUser(srv.url, { name: 'TypeRate B' });
      const c = await newUser(srv.url, { name: 'TypeRate C' });
      const ca = await connect(srv.url, a, { ...T, label: 'A' });
      const cb = await connect(srv.url, b, { ...T, label: 'B' });
      const cc = await connect(srv.url, c, { ...T, label: 'C' });
      try {
        const t0 = Date.now();
        for (let i = 0; i < 60; i += 1) ca.emit('typing', { to: b.user._id, isTyping: i % 2 === 0 });
        await cb.waitEvent('typing');
        // C's typing is not limited by A's.
        cc.emit('typing', { to: b.user._id, isTyping: true });
        await cb.waitEvent('typing', (p) => p.from === c.user._id);
        await barrier(srv.url, c, b, [cb]);
        const elapsed = (Date.now() - t0) / 1000;
        const got = cb.all('typing', (p) => p.from === a.user._id).length;
        assert.ok(got >= 1, 'some typing events are relayed');
        assert.ok(got <= 10 + Math.ceil(5 * elapsed) + 1, `${got} of 60 typing events relayed in ${elapsed} s`);
      } finally {
        ca.close(); cb.close(); cc.close();
      }
    });

    test('MAX_SOCKETS_PER_USER: one more socket gets "too many connections"; others are not affected', async () => {
      const srv = sockets;
      const a = await newUser(srv.url, { name: 'Max A' });
      const b = await newUser(srv.url, { name: 'Max B' });
      const open = [];
      try {
        for (let i = 0; i < 3; i += 1) open.push(await connect(srv.url, a, { ...T, label: `A${i}` }));
        const extra = new ChatClient(srv.url, { ...T, token: a.token, label: 'A4' });
        try {
          assert.equal((await extra.connectError()).message, 'too many connections');
        } finally { extra.close(); }
        // Another user is fine, and the three still work.
        const cb = await connect(srv.url, b, { ...T, label: 'B' });
        open.push(cb);
        const m = await open[0].send(b, 'hi');
        await cb.waitReceived(m._id);
        for (const s of open.slice(1, 3)) await s.waitReceived(m._id);
        // Closing one frees a slot (once the server has seen the disconnect).
        open.shift().close();
        const again = await waitFor(async () => {
          const c = new ChatClient(srv.url, { ...T, token: a.token, label: 'A again' });
          try {
            await c.until(() => c.connected || c.connectErrors.length > 0, { timeoutMs: 5000, what: 'connect or error' });
          } catch (e) { c.close(); throw e; }
          if (c.connected) return c;
          assert.equal(c.connectErrors[0].message, 'too many connections');
          c.close();
          return null;
        }, { timeoutMs: 10_000, what: 'a free socket slot' });
        open.push(again);
      } finally {
        for (const c of open) c.close();
      }
    });

    test('MAX_SOCKETS_PER_USER holds for sockets connecting at the same moment', async () => {
      const srv = sockets;
      const a = await newUser(srv.url, { name: 'Max Burst' });
      // A few rounds: each opens 12 sockets at once, then closes them and waits until the user is offline.
      const w = await newUser(srv.url, { name: 'Max Watcher' });
      const cw = await connect(srv.url, w, { ...T, label: 'W' });
      try {
        for (let round = 1; round <= 3; round += 1) {
          const clients = Array.from({ length: 12 }, (_, i) => new ChatClient(srv.url, { ...T, token: a.token, label: `P${i}` }));
          try {
            await Promise.all(clients.map((c) => c.until(() => c.connected || c.connectErrors.length > 0, { timeoutMs: 10_000, what: 'connect or error' })));
            const ok = clients.filter((c) => c.connected).length;
            const refused = clients.filter((c) => c.connectErrors.some((e) => e.message === 'too many connections')).length;
            // Every slot is free at the start of a round: exactly three get one.
            assert.deepEqual([ok, refused], [3, 9], `round ${round}: ${ok} connected, ${refused} refused with MAX_SOCKETS_PER_USER=3`);
          } finally {
            for (const c of clients) c.close();
          }
          await cw.waitEvent('user:offline', (p) => p.userId === a.user._id, { count: round, timeoutMs: 10_000 });
        }
      } finally { cw.close(); }
    });

    test('a socket whose token expires is disconnected by the server and cannot connect again with it', async () => {
      const srv = shortTokens;
      const a = await newUser(srv.url, { name: 'Expiring A' });
      const b = await newUser(srv.url, { name: 'Expiring B' });
      const ca = await connect(srv.url, a, { ...T, label: 'A' });
      const cb = await connect(srv.url, b, { ...T, label: 'B' });
      try {
        const { exp } = decodeJwt(a.token).payload;
        // Time is the behaviour: not before exp (strict), by then with seconds of slack.
        const reason = await ca.waitDisconnect(TOKEN_LIFETIME_S * 1000 + 8000);
        const at = Date.now();
        assert.equal(reason, 'io server disconnect');
        assert.ok(at >= exp * 1000 - CLOCK_SLACK_MS, `disconnected ${exp * 1000 - at} ms before exp`);
        const again = new ChatClient(srv.url, { ...T, token: a.token, label: 'A again' });
        try { assert.equal((await again.connectError()).message, 'unauthorized'); } finally { again.close(); }
      } finally {
        ca.close(); cb.close();
      }
    });
  });
}
