// Several devices per user, at-least-once delivery across reconnects,
// impersonation attempts, and logout disconnecting only the sockets of the
// revoked token; with default transports and WebSocket only.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, newUser, login, request, waitFor } from './lib/server.mjs';
import { history, send as httpSend } from './lib/messages.mjs';
import {
  TRANSPORT_MODES, BASE_ENV, ChatClient, connect, onlineSnapshot, barrier, closeAll,
} from './lib/chat.mjs';

let srv;
before(async () => { srv = await startServer({ env: BASE_ENV }); });
after(async () => { closeAll(); if (srv) assert.equal(await srv.stop(), 0); });

/** The message:received entries of `client` for messages from `fromId`, in arrival order. */
function receivedFrom(client, fromId) {
  return client.all('message:received', (p) => p?.message?.from === fromId);
}

function seqs(entries) { return entries.map((e) => e.args[0].message.seq); }

for (const mode of TRANSPORT_MODES) {
  const T = mode.opts;
  describe(`devices and delivery (${mode.name})`, () => {
    test('three devices per user: every device of the recipient and the sender\'s other devices get message:received', async () => {
      const a = await newUser(srv.url, { name: 'Dev A' });
      const b = await newUser(srv.url, { name: 'Dev B' });
      const w = await newUser(srv.url, { name: 'Dev W' });
      const cw = await connect(srv.url, w, { ...T, label: 'W' });
      await onlineSnapshot(cw);
      const A = [];
      const B = [];
      try {
        for (let i = 1; i <= 3; i += 1) A.push(await connect(srv.url, a, { ...T, label: `A${i}` }));
        for (let i = 1; i <= 3; i += 1) B.push(await connect(srv.url, b, { ...T, label: `B${i}` }));
        for (const c of [...A, ...B]) {
          const ids = await onlineSnapshot(c);
          assert.ok(ids.includes(a.user._id) && ids.includes(w.user._id), `${c.label}: ${ids}`);
          if (B.includes(c)) assert.ok(ids.includes(b.user._id), `${c.label}: ${ids}`);
        }
        await cw.waitEvent('user:online', (p) => p.userId === b.user._id);
        assert.equal(cw.all('user:online', (p) => p.userId === a.user._id).length, 1, 'one user:online for three devices');

        // A1 sends: B1-B3 and A2, A3 get it; A1 does not.
        const m = await A[0].send(b, 'to all of B');
        const recB = [];
        for (const c of B) {
          const e = await c.waitReceived(m._id);
          assert.deepEqual(e.args[0].message, m);
          assert.equal(typeof e.ack, 'function', `${c.label}: the recipient's devices are asked to ack`);
          recB.push(e);
        }
        for (const c of [A[1], A[2]]) assert.deepEqual((await c.waitReceived(m._id)).args[0].message, m);

        // The first recipient ack marks it delivered; every sender device hears it once.
        recB[1].ack();
        const delivered = [];
        for (const c of A) delivered.push((await c.waitEvent('message:delivered', (p) => p.messageId === m._id)).args[0]);
        assert.equal(new Set(delivered.map((d) => d.deliveredAt)).size, 1, 'the same deliveredAt everywhere');
        recB[0].ack();
        recB[2].ack();

        // B3 answers over HTTP: every socket of A and of B gets it (no socket sent it).
        const res = await httpSend(srv.url, b, a, 'from B over HTTP');
        assert.equal(res.status, 201);
        for (const c of [...A, ...B]) {
          const e = await c.waitReceived(res.body._id);
          if (c.label.startsWith('A')) e.ack();
        }
        // B2 answers over its socket: A1-A3, B1, B3 get it, B2 does not.
        const m3 = await B[1].send(a, 'from B2');
        for (const c of [...A, B[0], B[2]]) await c.waitReceived(m3._id);

        // Barriers, then nothing extra arrived.
        await barrier(srv.url, w, a, A);
        await barrier(srv.url, w, b, B);
        assert.equal(A[0].received(m._id).length, 0, 'the sending socket does not get its own message');
        assert.equal(B[1].received(m3._id).length, 0, 'the sending socket does not get its own message');
        for (const c of A) {
          assert.equal(c.all('message:delivered', (p) => p.messageId === m._id).length, 1, `${c.label}: one delivered for three acks`);
        }
        for (const c of [...A, ...B]) {
          for (const id of [m._id, res.body._id, m3._id]) {
            const sender = (c === A[0] && id === m._id) || (c === B[1] && id === m3._id);
            assert.equal(c.received(id).length, sender ? 0 : 1, `${c.label}: ${id} ${sender ? 'never (its own)' : 'once'}`);
          }
        }
        for (const c of B) assert.equal(c.all('message:delivered', (p) => p.messageId === m._id).length, 0, 'the recipient gets no delivered event');
        const h = await history(srv.url, a, b.user._id);
        assert.equal(h.body.find((x) => x._id === m._id).deliveredAt, delivered[0].deliveredAt);
      } finally {
        for (const c of [...A, ...B, cw]) c.close();
      }
    });

    test('unacked messages come again on every connect, oldest first, until a device acks them', async () => {
      const a = await newUser(srv.url, { name: 'Redeliver A' });
      const b = await newUser(srv.url, { name: 'Redeliver B' });
      const sent = [];
      for (let i = 1; i <= 3; i += 1) {
        const r = await httpSend(srv.url, a, b, `offline ${i}`);
        assert.equal(r.status, 201);
        sent.push(r.body);
      }
      const ids = sent.map((m) => m._id);
      // 1. B connects and does not ack: users:online, then the three, oldest first.
      let cb = await connect(srv.url, b, { ...T, label: 'B#1' });
      await cb.waitReceived(ids[2]);
      assert.equal(cb.events[0].event, 'users:online');
      assert.deepEqual(receivedFrom(cb, a.user._id).map((e) => e.args[0].message._id), ids);
      for (const e of receivedFrom(cb, a.user._id)) {
        assert.equal(typeof e.ack, 'function');
        assert.equal(e.args[0].message.delivered, false);
      }
      cb.close();

      // 2. Again: the same three.
      cb = await connect(srv.url, b, { ...T, label: 'B#2' });
      await cb.waitReceived(ids[2]);
      assert.deepEqual(receivedFrom(cb, a.user._id).map((e) => e.args[0].message._id), ids, 'redelivered after a reconnect');
      // Ack only the first; A (online now) hears it was delivered.
      const ca = await connect(srv.url, a, { ...T, label: 'A' });
      try {
        cb.received(ids[0])[0].ack();
        await ca.waitEvent('message:delivered', (p) => p.messageId === ids[0]);
      } finally { ca.close(); }
      cb.close();

      // 3. Only the two unacked ones now, then one new message after the replay.
      cb = await connect(srv.url, b, { ...T, label: 'B#3' });
      await cb.waitReceived(ids[2]);
      const fresh = await httpSend(srv.url, a, b, 'while online');
      await cb.waitReceived(fresh.body._id);
      assert.deepEqual(receivedFrom(cb, a.user._id).map((e) => e.args[0].message._id), [ids[1], ids[2], fresh.body._id]);
      for (const e of receivedFrom(cb, a.user._id)) e.ack();
      await waitFor(async () => (await history(srv.url, a, b.user._id)).body.every((m) => m.delivered),
        { what: 'every message delivered' });
      cb.close();

      // 4. Everything acked: nothing is replayed.
      cb = await connect(srv.url, b, { ...T, label: 'B#4' });
      try {
        await barrier(srv.url, a, b, [cb]);
        assert.equal(receivedFrom(cb, a.user._id).length, 1, `only the barrier: ${cb.describe()}`);
      } finally { cb.close(); }
    });

    test('a device connecting while another is online but has not acked gets the pending messages too', async () => {
      const a = await newUser(srv.url, { name: 'Pending A' });
      const b = await newUser(srv.url, { name: 'Pending B' });
      const b1 = await connect(srv.url, b, { ...T, label: 'B1' });
      let b2;
      try {
        const r = await httpSend(srv.url, a, b, 'not acked by B1');
        await b1.waitReceived(r.body._id);
        b2 = await connect(srv.url, b, { ...T, label: 'B2' });
        const e = await b2.waitReceived(r.body._id);
        e.ack();
        await waitFor(async () => (await history(srv.url, a, b.user._id)).body[0].delivered, { what: 'delivered' });
        // Acked by B2: a third device does not get it.
        const b3 = await connect(srv.url, b, { ...T, label: 'B3' });
        try {
          await barrier(srv.url, a, b, [b3]);
          assert.equal(b3.received(r.body._id).length, 0);
        } finally { b3.close(); }
      } finally { b1.close(); b2?.close(); }
    });

    test('replay and live messages: the recipient sees seq strictly increasing, each message once', async () => {
      const a = await newUser(srv.url, { name: 'Mix A' });
      const b = await newUser(srv.url, { name: 'Mix B' });
      for (let i = 1; i <= 30; i += 1) assert.equal((await httpSend(srv.url, a, b, `before ${i}`)).status, 201);
      // Connect while 30 more are being sent.
      const sending = (async () => {
        for (let i = 1; i <= 30; i += 1) assert.equal((await httpSend(srv.url, a, b, `during ${i}`)).status, 201);
      })();
      const cb = await connect(srv.url, b, { ...T, label: 'B', autoAck: true });
      try {
        await sending;
        await cb.until(() => receivedFrom(cb, a.user._id).length >= 60, { timeoutMs: 10_000, what: '60 messages' });
        const s = seqs(receivedFrom(cb, a.user._id));
        assert.deepEqual(s, Array.from({ length: 60 }, (_, i) => i + 1), 'seq 1..60 in order, once each');
      } finally { cb.close(); }
    });

    test('impersonation: a forged `from`, a forged readerId, a userId in auth; the socket is always the token\'s user', async () => {
      const a = await newUser(srv.url, { name: 'Imp A' });
      const b = await newUser(srv.url, { name: 'Imp B' });
      const c = await newUser(srv.url, { name: 'Imp C' });
      const ca = await connect(srv.url, a, { ...T, label: 'A', auth: { token: a.token, userId: b.user._id } });
      const cb = await connect(srv.url, b, { ...T, label: 'B' });
      const cc = await connect(srv.url, c, { ...T, label: 'C' });
      try {
        // user:connect claiming B: forbidden.
        assert.deepEqual(await ca.call('user:connect', { userId: b.user._id }), { ok: false, error: 'forbidden' });
        // A forged `from` is ignored: stored and delivered as A's.
        const ack = await ca.call('message:send', { to: b.user._id, text: 'forged from C', from: c.user._id });
        assert.equal(ack.ok, true, JSON.stringify(ack));
        assert.equal(ack.message.from, a.user._id);
        const rec = await cb.waitReceived(ack.message._id);
        assert.equal(rec.args[0].message.from, a.user._id);
        const hab = await history(srv.url, b, a.user._id);
        assert.deepEqual(hab.body.map((m) => [m.from, m.text]), [[a.user._id, 'forged from C']]);
        const hbc = await history(srv.url, b, c.user._id);
        assert.deepEqual(hbc.body, [], 'nothing stored between B and C');
        // Sending "as B to A" is A sending to itself: rejected, nothing stored.
        const self = await ca.call('message:send', { to: a.user._id, text: 'as B', from: b.user._id });
        assert.equal(self.ok, false);
        assert.equal(self.error, 'validation_failed');
        // A forged readerId in message:read: the event names the real reader.
        const fromB = await cb.send(a, 'read me');
        (await ca.waitReceived(fromB._id)).ack();
        const read = await ca.call('message:read', { conversationId: fromB.conversationId, readerId: c.user._id });
        assert.equal(read.ok, true);
        const ev = await cb.waitEvent('message:read');
        assert.equal(ev.args[0].readerId, a.user._id);
        // A userId in auth without a token is no login.
        const anon = new ChatClient(srv.url, { ...T, auth: { userId: b.user._id }, label: 'anon' });
        try { assert.equal((await anon.connectError()).message, 'unauthorized'); } finally { anon.close(); }
        // C never saw any of it.
        await barrier(srv.url, a, c, [cc]);
        assert.equal(cc.all('message:received').length, 1, 'only the barrier');
        assert.equal(cc.all('message:read').length, 0);
      } finally {
        ca.close(); cb.close(); cc.close();
      }
    });

    test('logout disconnects the sockets of that token only, and the token cannot connect again', async () => {
      const a = await newUser(srv.url, { name: 'Logout A' });
      const b = await newUser(srv.url, { name: 'Logout B' });
      const second = await login(srv.url, { email: a.email, password: a.password });
      assert.equal(second.status, 200);
      const token2 = second.body.token;
      assert.notEqual(token2, a.token);
      const cb = await connect(srv.url, b, { ...T, label: 'B' });
      await onlineSnapshot(cb);
      const a1 = await connect(srv.url, a, { ...T, label: 'A1 token1' });
      const a2 = await connect(srv.url, null, { ...T, label: 'A2 token1 cookie', extraHeaders: { cookie: `token=${a.token}` } });
      const a3 = await connect(srv.url, token2, { ...T, label: 'A3 token2' });
      try {
        const out = await request(srv.url, '/api/auth/logout', { method: 'POST', token: a.token });
        assert.equal(out.status, 200, out.text);
        assert.equal(await a1.waitDisconnect(), 'io server disconnect');
        assert.equal(await a2.waitDisconnect(), 'io server disconnect');
        // Token 2's socket and B's stay, and work.
        const m = await a3.send(b, 'still here');
        (await cb.waitReceived(m._id)).ack();
        await a3.waitEvent('message:delivered', (p) => p.messageId === m._id);
        const back = await httpSend(srv.url, b, a, 'to the remaining device');
        (await a3.waitReceived(back.body._id)).ack();
        assert.equal(a3.connected, true);
        assert.deepEqual(a3.disconnects, []);
        assert.deepEqual(cb.disconnects, []);
        // A is still online (one device left): no user:offline for A.
        await barrier(srv.url, { token: token2 }, b, [cb]);
        assert.equal(cb.all('user:offline', (p) => p.userId === a.user._id).length, 0);
        // The revoked token cannot connect, by any way.
        for (const opts of [{ token: a.token }, { extraHeaders: { cookie: `token=${a.token}` } }, { extraHeaders: { authorization: `Bearer ${a.token}` } }]) {
          const again = new ChatClient(srv.url, { ...T, ...opts, label: 'revoked' });
          try { assert.equal((await again.connectError()).message, 'unauthorized'); } finally { again.close(); }
        }
        // Logging out the second token with the cookie ends the last device: A goes offline.
        const out2 = await request(srv.url, '/api/auth/logout', { method: 'POST', cookie: `token=${token2}` });
        assert.equal(out2.status, 200);
        assert.equal(await a3.waitDisconnect(), 'io server disconnect');
        const off = await cb.waitEvent('user:offline', (p) => p.userId === a.user._id);
        assert.ok(off.args[0].lastSeen);
        assert.deepEqual(cb.disconnects, []);
      } finally {
        for (const c of [a1, a2, a3, cb]) c.close();
      }
    });
  });
}
