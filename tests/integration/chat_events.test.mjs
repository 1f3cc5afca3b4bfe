// Every row of the contract's Socket.IO event table, with the official
// socket.io-client, both with its default transports (long-polling, then the
// upgrade to WebSocket) and WebSocket only: authentication on connect, the
// users:online snapshot, user:connect, message:send / message:received /
// message:delivered, message:read both ways, typing, presence, and the same
// events for a message sent over HTTP.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { startServer, newUser, request, signJwt, decodeJwt, waitFor } from './lib/server.mjs';
import { assertMessage, history, send as httpSend } from './lib/messages.mjs';
import {
  TRANSPORT_MODES, BASE_ENV, ChatClient, connect, onlineSnapshot, userList, barrier,
  assertIso, assertId, closeAll,
} from './lib/chat.mjs';

let srv;
before(async () => { srv = await startServer({ env: BASE_ENV }); });
after(async () => { closeAll(); if (srv) assert.equal(await srv.stop(), 0); });

for (const mode of TRANSPORT_MODES) {
  const T = mode.opts;
  describe(`chat events (${mode.name})`, () => {
    test('connects with auth.token, the cookie or a Bearer header; users:online comes first and includes the user', async () => {
      const a = await newUser(srv.url, { name: 'Conn A' });
      const b = await newUser(srv.url, { name: 'Conn B' });
      const cb = await connect(srv.url, b, { ...T, label: 'B' });
      const ways = {
        'auth.token': { token: a.token },
        cookie: { extraHeaders: { cookie: `token=${a.token}` } },
        'cookie among others': { extraHeaders: { cookie: `theme=dark; token=${a.token}; x=1` } },
        'Bearer header': { extraHeaders: { authorization: `Bearer ${a.token}` } },
      };
      for (const [way, opts] of Object.entries(ways)) {
        const c = new ChatClient(srv.url, { ...T, ...opts, label: way });
        try {
          await c.connected$();
          const ids = await onlineSnapshot(c);
          assert.equal(c.events[0].event, 'users:online', `${way}: users:online is the first event`);
          assert.ok(Array.isArray(ids), `${way}: userIds is an array`);
          assert.deepEqual(Object.keys(c.events[0].args[0]), ['userIds']);
          assert.ok(ids.includes(a.user._id), `${way}: the snapshot includes the connecting user`);
          assert.ok(ids.includes(b.user._id), `${way}: the snapshot includes the other online user`);
          assert.equal(new Set(ids).size, ids.length, `${way}: no duplicates in ${JSON.stringify(ids)}`);
          // The socket is A: a message to B arrives from A.
          const m = await c.send(b, `via ${way}`);
          assert.equal(m.from, a.user._id);
          await cb.waitReceived(m._id);
        } finally {
          c.close();
        }
      }
      cb.close();
    });

    test('missing, malformed, tampered, expired, revoked and foreign-user tokens get connect_error "unauthorized"', async () => {
      const a = await newUser(srv.url, { name: 'Bad Token A' });
      const claims = decodeJwt(a.token).payload;
      const now = Math.floor(Date.now() / 1000);
      const [h, p, s] = a.token.split('.');
      const flip = s[0] === 'A' ? 'B' : 'A';
      const revoked = await newUser(srv.url, { name: 'Revoked' });
      const out = await request(srv.url, '/api/auth/logout', { method: 'POST', token: revoked.token });
      assert.equal(out.status, 200, out.text);
      const cases = {
        'no auth at all': {},
        'empty auth': { auth: {} },
        'empty token': { auth: { token: '' } },
        'not a JWT': { auth: { token: 'hello' } },
        'tampered signature': { auth: { token: `${h}.${p}.${flip}${s.slice(1)}` } },
        'other secret': { auth: { token: signJwt({ alg: 'HS256', typ: 'JWT' }, claims, 'another-secret-another-secret-0000') } },
        'alg none': { auth: { token: `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${p}.` } },
        expired: { auth: { token: signJwt({ alg: 'HS256', typ: 'JWT' }, { ...claims, iat: now - 100, exp: now - 10, jti: crypto.randomBytes(8).toString('hex') }) } },
        'unknown user': { auth: { token: signJwt({ alg: 'HS256', typ: 'JWT' }, { ...claims, sub: 'ffffffffffffffffffffffff', jti: crypto.randomBytes(8).toString('hex') }) } },
        'revoked by logout': { auth: { token: revoked.token } },
        'revoked, as cookie': { extraHeaders: { cookie: `token=${revoked.token}` } },
        'revoked, as Bearer': { extraHeaders: { authorization: `Bearer ${revoked.token}` } },
        'bad cookie': { extraHeaders: { cookie: 'token=abc.def.ghi' } },
        'other cookie name': { extraHeaders: { cookie: `session=${a.token}` } },
      };
      for (const [name, opts] of Object.entries(cases)) {
        const c = new ChatClient(srv.url, { ...T, ...opts, label: name });
        try {
          const err = await c.connectError();
          assert.equal(err.message, 'unauthorized', `${name}: ${err.message}`);
          assert.equal(c.connected, false);
          assert.equal(c.all('users:online').length, 0, `${name}: no snapshot for a rejected socket`);
        } finally {
          c.close();
        }
      }
    });

    test('user:connect acks ok for the own id, forbidden otherwise, and never changes identity', async () => {
      const a = await newUser(srv.url, { name: 'UC A' });
      const b = await newUser(srv.url, { name: 'UC B' });
      const c = await newUser(srv.url, { name: 'UC C' });
      const ca = await connect(srv.url, a, { ...T, label: 'A' });
      const cb = await connect(srv.url, b, { ...T, label: 'B' });
      const cc = await connect(srv.url, c, { ...T, label: 'C' });
      try {
        assert.deepEqual(await ca.call('user:connect', { userId: a.user._id }), { ok: true });
        for (const payload of [{ userId: b.user._id }, { userId: 'ffffffffffffffffffffffff' }, { userId: '' }, {}, { userId: 42 }]) {
          assert.deepEqual(await ca.call('user:connect', payload), { ok: false, error: 'forbidden' }, JSON.stringify(payload));
        }
        // Still A: sends come from A, and messages to B are not seen by this socket.
        const m = await ca.send(c, 'after claiming to be B');
        assert.equal(m.from, a.user._id);
        const got = await cc.waitReceived(m._id);
        assert.equal(got.args[0].message.from, a.user._id);
        const toB = await httpSend(srv.url, c, b, 'for B only');
        assert.equal(toB.status, 201);
        await cb.waitReceived(toB.body._id);
        await barrier(srv.url, c, a, [ca]);
        assert.equal(ca.received(toB.body._id).length, 0, 'A\'s socket must not receive B\'s messages');
        // And it is still A after all that.
        assert.deepEqual(await ca.call('user:connect', { userId: a.user._id }), { ok: true });
      } finally {
        ca.close(); cb.close(); cc.close();
      }
    });

    test('message:send acks the stored message; the recipient gets message:received; its ack sends message:delivered', async () => {
      const a = await newUser(srv.url, { name: 'Send A' });
      const b = await newUser(srv.url, { name: 'Send B' });
      const ca = await connect(srv.url, a, { ...T, label: 'A' });
      const cb = await connect(srv.url, b, { ...T, label: 'B' });
      try {
        const ack = await ca.call('message:send', { to: b.user._id, text: 'hello B', tempId: 'tmp-1' });
        assert.deepEqual(Object.keys(ack).sort(), ['message', 'ok']);
        assert.equal(ack.ok, true);
        const m = assertMessage(ack.message, {
          from: a.user._id, to: b.user._id, text: 'hello B', tempId: 'tmp-1', seq: 1,
          delivered: false, deliveredAt: null, read: false, readAt: null,
        });
        // Durably stored before the ack: history already has it.
        const stored = await history(srv.url, a, b.user._id);
        assert.equal(stored.status, 200);
        assert.deepEqual(stored.body.map((x) => x._id), [m._id]);

        const rec = await cb.waitReceived(m._id);
        assert.deepEqual(Object.keys(rec.args[0]), ['message']);
        assert.deepEqual(rec.args[0].message, m, 'message:received carries the stored message');
        assert.equal(typeof rec.ack, 'function', 'message:received asks for an ack');
        // The sending socket does not get its own message back.
        assert.equal(ca.received(m._id).length, 0);

        rec.ack();
        const del = await ca.waitEvent('message:delivered', (p) => p.messageId === m._id);
        const d = del.args[0];
        assert.deepEqual(Object.keys(d).sort(), ['conversationId', 'deliveredAt', 'messageId']);
        assert.equal(d.conversationId, m.conversationId);
        assertIso(d.deliveredAt, 'deliveredAt');
        assert.ok(Date.parse(d.deliveredAt) >= Date.parse(m.createdAt));
        const after1 = await history(srv.url, a, b.user._id);
        assert.equal(after1.body[0].delivered, true);
        assert.equal(after1.body[0].deliveredAt, d.deliveredAt, 'stored deliveredAt equals the event');

        // A second message the other way round.
        const back = await cb.send(a, 'hello A');
        assert.equal(back.conversationId, m.conversationId);
        assert.equal(back.seq, 2);
        const rec2 = await ca.waitReceived(back._id);
        rec2.ack();
        await cb.waitEvent('message:delivered', (p) => p.messageId === back._id);
        await barrier(srv.url, b, a, [ca]);
        assert.equal(ca.all('message:delivered', (p) => p.messageId === m._id).length, 1, 'delivered once');
        assert.equal(cb.all('message:delivered').length, 1, 'B, the recipient of message 1, gets no delivered event for it');
      } finally {
        ca.close(); cb.close();
      }
    });

    test('message:send errors: validation_failed, not_found, the own id; nothing stored and nothing emitted', async () => {
      const a = await newUser(srv.url, { name: 'Err A' });
      const b = await newUser(srv.url, { name: 'Err B' });
      const ca = await connect(srv.url, a, { ...T, label: 'A' });
      const cb = await connect(srv.url, b, { ...T, label: 'B' });
      try {
        const cases = [
          [{ text: 'no to' }, 'validation_failed'],
          [{ to: b.user._id }, 'validation_failed'],
          [{ to: b.user._id, text: '' }, 'validation_failed'],
          [{ to: b.user._id, text: '   \n\t ' }, 'validation_failed'],
          [{ to: b.user._id, text: 'x'.repeat(4001) }, 'validation_failed'],
          [{ to: b.user._id, text: 42 }, 'validation_failed'],
          [{ to: b.user._id, text: 'ok', tempId: 'x'.repeat(65) }, 'validation_failed'],
          [{ to: a.user._id, text: 'to myself' }, 'validation_failed'],
          [{ to: 'ffffffffffffffffffffffff', text: 'nobody' }, 'not_found'],
          [{ to: 'not-an-id', text: 'nobody' }, 'not_found'],
        ];
        for (const [payload, code] of cases) {
          const ack = await ca.call('message:send', payload);
          assert.equal(ack.ok, false, `${JSON.stringify(payload).slice(0, 80)}: ${JSON.stringify(ack)}`);
          assert.equal(ack.error, code, `${JSON.stringify(payload).slice(0, 80)}: ${JSON.stringify(ack)}`);
          assert.equal(typeof ack.message, 'string');
          assert.ok(ack.message.length > 0);
        }
        // The same payloads over HTTP give the same codes (one domain function).
        const http = await request(srv.url, '/api/messages/send', { method: 'POST', token: a.token, body: { to: 'ffffffffffffffffffffffff', text: 'nobody' } });
        assert.equal(http.status, 404);
        assert.equal(http.body.error, 'not_found');
        // Exactly 4000 code points (astral ones count once) is fine.
        const long = await ca.send(b, '\u{1F600}'.repeat(4000));
        assert.equal([...long.text].length, 4000);
        const h = await history(srv.url, a, b.user._id);
        assert.deepEqual(h.body.map((x) => x._id), [long._id], 'only the valid message is stored');
        await cb.waitReceived(long._id);
        assert.equal(cb.all('message:received').length, 1, 'no event for rejected sends');
      } finally {
        ca.close(); cb.close();
      }
    });

    test('a tempId retry acks the original message and emits nothing again', async () => {
      const a = await newUser(srv.url, { name: 'Tmp A' });
      const b = await newUser(srv.url, { name: 'Tmp B' });
      const ca = await connect(srv.url, a, { ...T, label: 'A' });
      const cb = await connect(srv.url, b, { ...T, label: 'B' });
      try {
        const first = await ca.send(b, 'once', { tempId: 'retry-me' });
        const second = await ca.send(b, 'once', { tempId: 'retry-me' });
        assert.equal(second._id, first._id);
        assert.equal(second.seq, first.seq);
        const http = await httpSend(srv.url, a, b, 'once', { tempId: 'retry-me' });
        assert.equal(http.status, 200, 'an HTTP retry of a socket send is the same message');
        assert.equal(http.body._id, first._id);
        (await cb.waitReceived(first._id)).ack();
        await barrier(srv.url, a, b, [cb]);
        assert.equal(cb.received(first._id).length, 1, 'received once');
        const h = await history(srv.url, b, a.user._id);
        assert.equal(h.body.filter((x) => x.text === 'once').length, 1);
      } finally {
        ca.close(); cb.close();
      }
    });

    test('message:read with and without an ack; the peer gets message:read; nothing when count is 0', async () => {
      const a = await newUser(srv.url, { name: 'Read A' });
      const b = await newUser(srv.url, { name: 'Read B' });
      const ca = await connect(srv.url, a, { ...T, label: 'A' });
      const cb = await connect(srv.url, b, { ...T, label: 'B', autoAck: true });
      try {
        const m1 = await ca.send(b, 'one');
        const m2 = await ca.send(b, 'two');
        const m3 = await ca.send(b, 'three');
        await cb.waitReceived(m3._id);
        const conv = m1.conversationId;

        // Up to m2, with an ack.
        const ack = await cb.call('message:read', { conversationId: conv, upTo: m2._id });
        assert.deepEqual(Object.keys(ack).sort(), ['conversationId', 'count', 'ok', 'readAt', 'upTo']);
        assert.equal(ack.ok, true);
        assert.equal(ack.conversationId, conv);
        assert.equal(ack.upTo, m2._id);
        assert.equal(ack.count, 2);
        assertIso(ack.readAt, 'readAt');
        const ev = await ca.waitEvent('message:read', (p) => p.upTo === m2._id);
        assert.deepEqual(ev.args[0], { conversationId: conv, readerId: b.user._id, upTo: m2._id, readAt: ack.readAt });
        assert.equal(cb.all('message:read').length, 0, 'the reader does not get its own read event');

        // The peer's id works as the target as well (as on the HTTP route)? The contract
        // names conversationId; the rest, without an ack (it is optional).
        cb.emit('message:read', { conversationId: conv });
        const ev2 = await ca.waitEvent('message:read', (p) => p.upTo === m3._id);
        assert.equal(ev2.args[0].readerId, b.user._id);
        assert.equal(ev2.args[0].conversationId, conv);
        assertIso(ev2.args[0].readAt);

        const h = await history(srv.url, a, b.user._id);
        for (const m of h.body) {
          assert.equal(m.read, true, `${m.text} read`);
          assert.equal(m.delivered, true, `${m.text} delivered`);
        }
        assert.equal(h.body.find((m) => m._id === m2._id).readAt, ack.readAt);

        // Nothing new to read: count 0 and no event to A.
        const none = await cb.call('message:read', { conversationId: conv });
        assert.equal(none.ok, true);
        assert.equal(none.count, 0);
        // A reading B's (zero) messages: count 0, no event to B.
        const none2 = await ca.call('message:read', { conversationId: conv });
        assert.equal(none2.count, 0);
        await barrier(srv.url, b, a, [ca]);
        await barrier(srv.url, a, b, [cb]);
        assert.equal(ca.all('message:read').length, 2, 'no read event for count 0');
        assert.equal(cb.all('message:read').length, 0);

        // Errors: a conversation the caller is not in, a malformed id, a bad upTo.
        const stranger = await newUser(srv.url, { name: 'Read Stranger' });
        const cs = await connect(srv.url, stranger, { ...T, label: 'S' });
        try {
          const nf = await cs.call('message:read', { conversationId: conv });
          assert.equal(nf.ok, false);
          assert.equal(nf.error, 'not_found');
          assert.equal((await cs.call('message:read', { conversationId: 'zzz' })).error, 'not_found');
          assert.equal((await cs.call('message:read', {})).error, 'not_found');
          assert.equal((await cb.call('message:read', { conversationId: conv, upTo: 'nope' })).error, 'validation_failed');
        } finally { cs.close(); }

        // Reading over HTTP emits the same event.
        const m4 = await ca.send(b, 'four');
        await cb.waitReceived(m4._id);
        const r = await request(srv.url, `/api/messages/${conv}/read`, { method: 'POST', token: b.token, body: {} });
        assert.equal(r.status, 200, r.text);
        assert.equal(r.body.count, 2, 'm4 and the barrier message A sent B');
        const ev3 = await ca.waitEvent('message:read', (p) => p.upTo === m4._id);
        assert.deepEqual(ev3.args[0], { conversationId: conv, readerId: b.user._id, upTo: m4._id, readAt: r.body.readAt });
      } finally {
        ca.close(); cb.close();
      }
    });

    test('typing is relayed to every socket of the recipient, not stored, and not sent back', async () => {
      const a = await newUser(srv.url, { name: 'Typ A' });
      const b = await newUser(srv.url, { name: 'Typ B' });
      const ca = await connect(srv.url, a, { ...T, label: 'A' });
      const cb1 = await connect(srv.url, b, { ...T, label: 'B1' });
      const cb2 = await connect(srv.url, b, { ...T, label: 'B2' });
      try {
        // Before any message: relayed, with no conversation yet.
        ca.emit('typing', { to: b.user._id, isTyping: true });
        for (const c of [cb1, cb2]) {
          const e = await c.waitEvent('typing');
          assert.deepEqual(e.args[0], { from: a.user._id, conversationId: null, isTyping: true });
        }
        const m = await ca.send(b, 'first');
        ca.emit('typing', { to: b.user._id, isTyping: true });
        ca.emit('typing', { to: b.user._id, isTyping: false });
        for (const c of [cb1, cb2]) {
          const t1 = await c.waitEvent('typing', () => true, { count: 2 });
          const t2 = await c.waitEvent('typing', () => true, { count: 3 });
          assert.deepEqual(t1.args[0], { from: a.user._id, conversationId: m.conversationId, isTyping: true });
          assert.deepEqual(t2.args[0], { from: a.user._id, conversationId: m.conversationId, isTyping: false });
        }
        // A forged `from` is ignored; typing to oneself or to a bad id goes nowhere.
        ca.emit('typing', { to: b.user._id, isTyping: true, from: 'ffffffffffffffffffffffff' });
        const forged = await cb1.waitEvent('typing', () => true, { count: 4 });
        assert.equal(forged.args[0].from, a.user._id);
        ca.emit('typing', { to: a.user._id, isTyping: true });
        ca.emit('typing', { to: 'zzz', isTyping: true });
        // B typing back reaches A only.
        cb1.emit('typing', { to: a.user._id, isTyping: true });
        const back = await ca.waitEvent('typing');
        assert.deepEqual(back.args[0], { from: b.user._id, conversationId: m.conversationId, isTyping: true });
        await barrier(srv.url, b, a, [ca]);
        assert.equal(ca.all('typing').length, 1, `A got only B's typing: ${ca.describe()}`);
        await barrier(srv.url, a, b, [cb1, cb2]);
        assert.equal(cb2.all('typing').length, 4, 'B2 got exactly the four typing events to B');
        assert.equal(cb1.all('typing', (p) => p.from === b.user._id).length, 0, 'typing is not echoed to the typer\'s own sockets');
        // Not stored.
        const h = await history(srv.url, a, b.user._id);
        assert.deepEqual(h.body.map((x) => x.text).filter((t) => !t.startsWith('barrier')), ['first']);
      } finally {
        ca.close(); cb1.close(); cb2.close();
      }
    });

    test('presence: user:online on the first socket, user:offline with lastSeen on the last, GET /api/users agrees', async () => {
      const w = await newUser(srv.url, { name: 'Watcher' });
      const u = await newUser(srv.url, { name: 'Presence U' });
      const cw = await connect(srv.url, w, { ...T, label: 'W' });
      try {
        await onlineSnapshot(cw);
        let list = await userList(srv.url, w);
        assert.equal(list.get(u.user._id).online, false);
        assert.equal(list.get(u.user._id).lastSeen, null);

        const u1 = await connect(srv.url, u, { ...T, label: 'U1' });
        const on = await cw.waitEvent('user:online', (p) => p.userId === u.user._id);
        assert.deepEqual(on.args[0], { userId: u.user._id });
        assert.equal(u1.all('user:online', (p) => p.userId === u.user._id).length, 0, 'not sent to the connecting socket');
        list = await userList(srv.url, w);
        assert.equal(list.get(u.user._id).online, true);

        // A second tab: no second user:online; the snapshot includes U.
        const u2 = await connect(srv.url, u, { ...T, label: 'U2' });
        assert.ok((await onlineSnapshot(u2)).includes(u.user._id));
        assert.ok((await onlineSnapshot(u2)).includes(w.user._id));
        // Closing one tab keeps U online.
        u1.close();
        // A third user's arrival and departure are barriers for the events about U.
        const x = await newUser(srv.url, { name: 'Presence X' });
        const cx = await connect(srv.url, x, { ...T, label: 'X' });
        await cw.waitEvent('user:online', (p) => p.userId === x.user._id);
        cx.close();
        await cw.waitEvent('user:offline', (p) => p.userId === x.user._id);
        await u2.waitEvent('user:offline', (p) => p.userId === x.user._id);
        assert.equal(cw.all('user:online', (p) => p.userId === u.user._id).length, 1, 'one user:online for two tabs');
        assert.equal(cw.all('user:offline', (p) => p.userId === u.user._id).length, 0, 'closing one of two tabs is not offline');
        list = await userList(srv.url, w);
        assert.equal(list.get(u.user._id).online, true, 'still online with one tab open');

        // The last tab closes: user:offline with lastSeen, to everyone else online.
        const t0 = Date.now();
        u2.close();
        const off = await cw.waitEvent('user:offline', (p) => p.userId === u.user._id);
        assert.deepEqual(Object.keys(off.args[0]).sort(), ['lastSeen', 'userId']);
        assertIso(off.args[0].lastSeen, 'lastSeen');
        assert.ok(Math.abs(Date.parse(off.args[0].lastSeen) - t0) < 5000, 'lastSeen is now');
        // The store agrees: offline, and lastSeen is kept.
        const seen = await waitFor(async () => {
          const l = await userList(srv.url, w);
          const e = l.get(u.user._id);
          return e.online === false && e.lastSeen !== null ? e : null;
        }, { what: 'lastSeen in GET /api/users' });
        assert.equal(seen.lastSeen, off.args[0].lastSeen);
        // Offline W sees U's return online again.
        const u3 = await connect(srv.url, u, { ...T, label: 'U3' });
        await cw.waitEvent('user:online', (p) => p.userId === u.user._id, { count: 2 });
        u3.close();
        const off2 = await cw.waitEvent('user:offline', (p) => p.userId === u.user._id, { count: 2 });
        await waitFor(async () => (await userList(srv.url, w)).get(u.user._id).lastSeen === off2.args[0].lastSeen,
          { what: 'the second lastSeen in GET /api/users' });
        // GET /api/auth/me is the same User: it reports the stored lastSeen too.
        const me = await request(srv.url, '/api/auth/me', { token: u.token });
        assert.equal(me.status, 200);
        assert.equal(me.body.lastSeen, off2.args[0].lastSeen, 'GET /api/auth/me lastSeen after going offline');
      } finally {
        cw.close();
      }
    });

    test('a message sent over HTTP emits the same events as one sent over the socket', async () => {
      const a = await newUser(srv.url, { name: 'Http A' });
      const b = await newUser(srv.url, { name: 'Http B' });
      const ca1 = await connect(srv.url, a, { ...T, label: 'A1' });
      const ca2 = await connect(srv.url, a, { ...T, label: 'A2' });
      const cb = await connect(srv.url, b, { ...T, label: 'B' });
      try {
        const res = await httpSend(srv.url, a, b, 'over http', { tempId: 'h1' });
        assert.equal(res.status, 201, res.text);
        const m = res.body;
        const rec = await cb.waitReceived(m._id);
        assert.deepEqual(rec.args[0].message, m);
        // Both of the sender's sockets get it: none of them sent it.
        for (const c of [ca1, ca2]) assert.deepEqual((await c.waitReceived(m._id)).args[0].message, m);
        rec.ack();
        for (const c of [ca1, ca2]) {
          const d = await c.waitEvent('message:delivered', (p) => p.messageId === m._id);
          assert.equal(d.args[0].conversationId, m.conversationId);
          assertIso(d.args[0].deliveredAt);
          assertId(d.args[0].messageId);
        }
        const r = await request(srv.url, `/api/messages/${a.user._id}/read`, { method: 'POST', token: b.token, body: {} });
        assert.equal(r.body.count, 1);
        for (const c of [ca1, ca2]) await c.waitEvent('message:read', (p) => p.upTo === m._id);
      } finally {
        ca1.close(); ca2.close(); cb.close();
      }
    });
  });
}
