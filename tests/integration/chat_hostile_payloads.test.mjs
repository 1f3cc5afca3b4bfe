// Hostile payloads to every chat event from an authenticated socket:
// message:send, message:read, typing, user:connect, and the acks of
// message:received. Wrong types, huge strings, deep nesting (within and past
// JSON_MAX_DEPTH), missing fields, non-object payloads, spoofed fields, extra
// arguments, no ack callback, acks of unknown ids. The server survives each,
// answers an error ack wherever the client asked for an ack (the exact error
// of the contract), never relays or stores anything for them, and nothing is
// acked ok or marked read: history and the conversation list stay as they were.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, newUser, request, waitFor } from './lib/server.mjs';
import { assertMessage, history, historyAfterSeq, send as httpSend } from './lib/messages.mjs';
import { wsOpen } from './lib/eio.mjs';
import { TRANSPORT_MODES, BASE_ENV, connect, barrier, closeAll, sessionsDrained } from './lib/chat.mjs';

let srv;
before(async () => { srv = await startServer({ env: BASE_ENV }); });
after(async () => {
  closeAll();
  if (!srv) return;
  try {
    await sessionsDrained(srv.url, 30_000);
  } finally {
    assert.equal(await srv.stop(), 0, 'parleyd exits 0 after SIGTERM');
  }
});

const HUGE = 900_000; // under maxPayload (1000000), far over every field's limit

/** {"a":{"a":...{"a":leaf}}} with `depth` objects. */
function nested(depth, leaf = 'x') {
  let v = leaf;
  for (let i = 0; i < depth; i += 1) v = { a: v };
  return v;
}

/** Emits with an ack and any number of arguments; resolves the ack's first argument. */
function emitAck(client, event, ...args) {
  return client.socket.timeout(10_000).emitWithAck(event, ...args);
}

function assertErrorAck(ack, error, fields, label) {
  const where = `${label}: ${JSON.stringify(ack).slice(0, 300)}`;
  assert.equal(typeof ack, 'object', where);
  assert.equal(ack.ok, false, where);
  assert.equal(ack.error, error, where);
  assert.equal(typeof ack.message, 'string', where);
  assert.ok(ack.message.length > 0 && ack.message.length < 200, where);
  if (fields === undefined) assert.equal(Object.hasOwn(ack, 'fields'), false, where);
  else assert.deepEqual(ack.fields, fields, where);
  assert.deepEqual(Object.keys(ack).sort(), fields === undefined ? ['error', 'message', 'ok'] : ['error', 'fields', 'message', 'ok'], where);
}

async function assertAlive() {
  const res = await request(srv.url, '/api/health');
  assert.equal(res.status, 200, 'the server still answers');
  assert.equal(srv.proc.exitCode, null);
}

/** Asserts `who` has no conversation and no history with `peer`. */
async function assertNothingStored(who, peer) {
  const convs = await request(srv.url, '/api/conversations', { token: who.token });
  assert.equal(convs.status, 200, convs.text);
  assert.deepEqual(convs.body.filter((c) => c.participants.includes(peer.user._id)), [], `${who.name}: no conversation with ${peer.name}`);
  const h = await history(srv.url, who, peer.user._id);
  assert.equal(h.status, 200, h.text);
  assert.deepEqual(h.body, [], `${who.name}: no message stored`);
}

// [label, emit arguments, expected error, expected fields]; `B` and `A` are filled in per test.
function sendCases(A, B) {
  const req = { to: 'is required', text: 'is required' };
  return [
    ['no payload at all', [], 'validation_failed', req],
    ['null', [null], 'validation_failed', req],
    ['a string', ['hello'], 'validation_failed', req],
    ['a number', [42], 'validation_failed', req],
    ['true', [true], 'validation_failed', req],
    ['an array of the fields', [[B, 'hello']], 'validation_failed', req],
    ['an empty object', [{}], 'validation_failed', req],
    ['null fields', [{ to: null, text: null }], 'validation_failed', req],
    ['to a number', [{ to: 123, text: 'x' }], 'validation_failed', { to: 'must be a string' }],
    ['to an operator object', [{ to: { $ne: null }, text: 'x' }], 'validation_failed', { to: 'must be a string' }],
    ['to an array', [{ to: [B], text: 'x' }], 'validation_failed', { to: 'must be a string' }],
    ['to nested 60 deep', [{ to: nested(60, B), text: 'x' }], 'validation_failed', { to: 'must be a string' }],
    ['text a number', [{ to: B, text: 123 }], 'validation_failed', { text: 'must be a string' }],
    ['text an array', [{ to: B, text: ['x'] }], 'validation_failed', { text: 'must be a string' }],
    ['text an object', [{ to: B, text: { toString: 'x' } }], 'validation_failed', { text: 'must be a string' }],
    ['text binary', [{ to: B, text: Buffer.from('hi') }], 'validation_failed', { text: 'must be a string' }],
    ['text nested 60 deep', [{ to: B, text: nested(60) }], 'validation_failed', { text: 'must be a string' }],
    ['text empty', [{ to: B, text: '' }], 'validation_failed', { text: 'must be 1-4000 characters' }],
    ['text of 4001 characters', [{ to: B, text: 'é'.repeat(4001) }], 'validation_failed', { text: 'must be 1-4000 characters' }],
    [`text of ${HUGE} characters`, [{ to: B, text: 'x'.repeat(HUGE) }], 'validation_failed', { text: 'must be 1-4000 characters' }],
    ['text only whitespace', [{ to: B, text: ' \n\t \r ' }], 'validation_failed', { text: 'must not be only whitespace' }],
    ['tempId too long', [{ to: B, text: 'x', tempId: 't'.repeat(65) }], 'validation_failed', { tempId: 'must be 1-64 characters' }],
    ['tempId empty', [{ to: B, text: 'x', tempId: '' }], 'validation_failed', { tempId: 'must be 1-64 characters' }],
    ['tempId a number', [{ to: B, text: 'x', tempId: 7 }], 'validation_failed', { tempId: 'must be a string' }],
    ['to oneself', [{ to: A, text: 'x' }], 'validation_failed', { to: 'cannot be yourself' }],
    ['a wrong to with extra arguments', [{ to: 5 }, 'extra', { x: 1 }], 'validation_failed', { to: 'must be a string', text: 'is required' }],
    ['to not an id', [{ to: 'not-an-id', text: 'x' }], 'not_found', undefined],
    ['to an id in capitals', [{ to: B.toUpperCase(), text: 'x' }], 'not_found', undefined],
    ['to an id with a space', [{ to: `${B} `, text: 'x' }], 'not_found', undefined],
    ['to an unknown id', [{ to: 'f'.repeat(24), text: 'x' }], 'not_found', undefined],
    [`to of ${HUGE} characters`, [{ to: 'a'.repeat(HUGE), text: 'x' }], 'not_found', undefined],
  ];
}

for (const mode of TRANSPORT_MODES) {
  describe(`hostile payloads (${mode.name})`, () => {
    const T = mode.opts;

    test('message:send: an exact error ack for every bad shape; nothing stored, relayed or acked ok', { timeout: 60_000 }, async () => {
      const a = await newUser(srv.url, { name: 'Hostile Sender' });
      const b = await newUser(srv.url, { name: 'Hostile Target' });
      const c = await newUser(srv.url, { name: 'Hostile Prober' });
      const ca = await connect(srv.url, a, { ...T, label: 'A' });
      const ca2 = await connect(srv.url, a, { ...T, label: 'A other device' });
      const cb = await connect(srv.url, b, { ...T, label: 'B' });
      try {
        for (const [label, args, error, fields] of sendCases(a.user._id, b.user._id)) {
          assertErrorAck(await emitAck(ca, 'message:send', ...args), error, fields, label);
        }
        // The same without an ack callback: no answer to wait for, so they all go at once.
        for (const [, args] of sendCases(a.user._id, b.user._id)) ca.socket.emit('message:send', ...args);
        // The socket still works, and is still A.
        assert.deepEqual(await emitAck(ca, 'user:connect', { userId: a.user._id }), { ok: true });
        await assertAlive();
        await barrier(srv.url, c, b, [cb]);
        await barrier(srv.url, c, a, [ca2]);
        assert.deepEqual(cb.all('message:received', (p) => p.message.from === a.user._id), [], 'nothing reached B');
        assert.deepEqual(ca2.all('message:received', (p) => p.message.from === a.user._id), [], 'nothing reached A\'s other device');
        assert.deepEqual(cb.all('message:delivered'), []);
        await assertNothingStored(a, b);
      } finally {
        ca.close(); ca2.close(); cb.close();
      }
    });

    test('message:send with spoofed fields and extra arguments: stored once, as the socket\'s user, spoofed fields ignored', async () => {
      const a = await newUser(srv.url, { name: 'Spoof Sender' });
      const b = await newUser(srv.url, { name: 'Spoof Target' });
      const c = await newUser(srv.url, { name: 'Spoof Victim' });
      const ca = await connect(srv.url, a, { ...T, label: 'A' });
      const cb = await connect(srv.url, b, { ...T, label: 'B', autoAck: true });
      try {
        // (conversationId is no spoof since contract v1.1: with `to` it is a
        // 400, tested in messages_by_conversation.)
        const payload = {
          to: b.user._id, text: 'plain text', tempId: 'spoof-1',
          from: c.user._id, _id: 'f'.repeat(24), seq: 99,
          delivered: true, read: true, createdAt: '2000-01-01T00:00:00.000Z', userId: c.user._id,
        };
        const ack = await emitAck(ca, 'message:send', payload, 'extra', { to: c.user._id }, 7);
        assert.equal(ack.ok, true, JSON.stringify(ack));
        assert.deepEqual(Object.keys(ack).sort(), ['message', 'ok']);
        const m = assertMessage(ack.message, { from: a.user._id, to: b.user._id, text: 'plain text', tempId: 'spoof-1', seq: 1, delivered: false, read: false });
        assert.notEqual(m._id, payload._id);
        assert.notEqual(m.createdAt, payload.createdAt);
        const got = await cb.waitReceived(m._id);
        assert.deepEqual(got.args[0].message, ack.message);
        const stored = await historyAfterSeq(srv.url, a, b.user._id);
        assert.deepEqual(stored.map((x) => x._id), [m._id]);
        const victim = await request(srv.url, '/api/conversations', { token: c.token });
        assert.deepEqual(victim.body, [], 'nothing for the user named in the spoofed fields');
      } finally {
        ca.close(); cb.close();
      }
    });

    test('message:read: an error ack for every bad shape; nothing marked read, no message:read to the peer', async () => {
      const reader = await newUser(srv.url, { name: 'Hostile Reader' });
      const peer = await newUser(srv.url, { name: 'Read Peer' });
      const stranger = await newUser(srv.url, { name: 'Read Stranger' });
      const sent = [];
      for (let i = 0; i < 3; i += 1) {
        const res = await httpSend(srv.url, peer, reader, `to read ${i}`);
        assert.equal(res.status, 201, res.text);
        sent.push(res.body);
      }
      const foreign = await httpSend(srv.url, peer, stranger, 'not yours');
      const conv = sent[0].conversationId;
      const cr = await connect(srv.url, reader, { ...T, label: 'reader' });
      const cp = await connect(srv.url, peer, { ...T, label: 'peer' });
      try {
        const notFound = [
          ['no payload', []], ['null', [null]], ['a string', [conv]], ['a number', [1]], ['an array', [[conv]]],
          ['an empty object', [{}]], ['conversationId a number', [{ conversationId: 123 }]],
          ['conversationId an operator object', [{ conversationId: { $ne: null } }]],
          ['conversationId nested', [{ conversationId: nested(60, conv) }]],
          [`conversationId of ${HUGE} characters`, [{ conversationId: 'a'.repeat(HUGE) }]],
          ['someone else\'s conversation', [{ conversationId: foreign.body.conversationId }]],
          ['an unknown conversation', [{ conversationId: 'f'.repeat(24) }]],
        ];
        for (const [label, args] of notFound) assertErrorAck(await emitAck(cr, 'message:read', ...args), 'not_found', undefined, label);
        const invalid = [
          ['upTo not an id', { conversationId: conv, upTo: 'garbage' }, { upTo: 'must be a message id' }],
          [`upTo of ${HUGE} characters`, { conversationId: conv, upTo: 'u'.repeat(HUGE) }, { upTo: 'must be a message id' }],
          ['upTo not in the conversation', { conversationId: conv, upTo: foreign.body._id }, { upTo: 'is not a message of this conversation' }],
        ];
        for (const [label, payload, fields] of invalid) assertErrorAck(await emitAck(cr, 'message:read', payload), 'validation_failed', fields, label);
        // Without acks too.
        for (const [, args] of notFound) cr.socket.emit('message:read', ...args);
        for (const [, payload] of invalid) cr.socket.emit('message:read', payload);
        await assertAlive();
        const c = await newUser(srv.url, { name: 'Read Prober' });
        await barrier(srv.url, c, peer, [cp]);
        assert.deepEqual(cp.all('message:read'), [], 'no message:read reached the peer');
        for (const m of await historyAfterSeq(srv.url, reader, peer.user._id)) {
          assert.equal(m.read, false, `seq ${m.seq} was marked read`);
        }
        const list = await request(srv.url, '/api/conversations', { token: reader.token });
        assert.equal(list.body[0].unreadCount, 3);
        // A correct read still works afterwards.
        const ok = await emitAck(cr, 'message:read', { conversationId: conv, upTo: sent[1]._id });
        assert.equal(ok.ok, true, JSON.stringify(ok));
        assert.equal(ok.count, 2);
        await cp.waitEvent('message:read', (p) => p.upTo === sent[1]._id);
      } finally {
        cr.close(); cp.close();
      }
    });

    // A non-string upTo must not read as absent (which would mark every
    // message read): refused as POST /api/messages/:id/read refuses it.
    test('message:read with a non-string upTo is refused as over HTTP, and marks nothing read', async () => {
      const reader = await newUser(srv.url, { name: 'Typed Reader' });
      const peer = await newUser(srv.url, { name: 'Typed Peer' });
      const m = (await httpSend(srv.url, peer, reader, 'unread')).body;
      const overHttp = await request(srv.url, `/api/messages/${m.conversationId}/read`, { method: 'POST', token: reader.token, body: { upTo: 123 } });
      assert.equal(overHttp.status, 400, overHttp.text);
      assert.deepEqual(overHttp.body.fields, { upTo: 'must be a string' });
      const cr = await connect(srv.url, reader, { ...T, label: 'reader' });
      try {
        for (const upTo of [123, { $gt: '' }, [m._id], true]) {
          assertErrorAck(await emitAck(cr, 'message:read', { conversationId: m.conversationId, upTo }), 'validation_failed', { upTo: 'must be a string' }, `upTo ${JSON.stringify(upTo)}`);
        }
        const [after1] = await historyAfterSeq(srv.url, reader, peer.user._id);
        assert.equal(after1.read, false, 'nothing marked read');
      } finally { cr.close(); }
    });

    test('typing: bad shapes are never relayed; a wrong isTyping is relayed as a boolean; the socket goes on', async () => {
      const a = await newUser(srv.url, { name: 'Typing Hostile' });
      const b = await newUser(srv.url, { name: 'Typing Target' });
      const c = await newUser(srv.url, { name: 'Typing Prober' });
      const ca = await connect(srv.url, a, { ...T, label: 'A' });
      const cb = await connect(srv.url, b, { ...T, label: 'B' });
      try {
        const dropped = [
          [], [null], ['hello'], [7], [[b.user._id, true]], [{}], [{ isTyping: true }],
          [{ to: 123, isTyping: true }], [{ to: { $ne: null }, isTyping: true }], [{ to: [b.user._id], isTyping: true }],
          [{ to: 'not-an-id', isTyping: true }], [{ to: a.user._id, isTyping: true }], [{ to: 'a'.repeat(HUGE), isTyping: true }],
          [{ to: nested(60, b.user._id), isTyping: true }], [{ to: b.user._id.toUpperCase(), isTyping: true }],
        ];
        for (const args of dropped) ca.socket.emit('typing', ...args);
        await barrier(srv.url, c, b, [cb]);
        assert.deepEqual(cb.all('typing'), [], `relayed: ${JSON.stringify(cb.all('typing').map((e) => e.args[0]))}`);
        // A valid recipient with a wrong isTyping: relayed, with a boolean.
        const loose = [{ to: b.user._id, isTyping: 'yes' }, { to: b.user._id, isTyping: nested(60) }, { to: b.user._id }, { to: b.user._id, isTyping: true, from: c.user._id }];
        for (const p of loose) ca.socket.emit('typing', p, 'extra', { x: 1 });
        await cb.waitEvent('typing', () => true, { count: loose.length });
        await barrier(srv.url, c, b, [cb]);
        const relayed = cb.all('typing').map((e) => e.args[0]);
        assert.equal(relayed.length, loose.length, JSON.stringify(relayed));
        for (const p of relayed) {
          assert.deepEqual(Object.keys(p).sort(), ['conversationId', 'from', 'isTyping']);
          assert.equal(p.from, a.user._id, 'typing is always from the socket\'s user');
          assert.equal(typeof p.isTyping, 'boolean');
        }
        assert.equal(relayed[3].isTyping, true);
        assert.deepEqual(await emitAck(ca, 'user:connect', { userId: a.user._id }), { ok: true });
        await assertAlive();
        await assertNothingStored(a, b);
      } finally {
        ca.close(); cb.close();
      }
    });

    test('user:connect: anything but the socket\'s own id is forbidden, and never changes who the socket is', async () => {
      const a = await newUser(srv.url, { name: 'Connect Hostile' });
      const b = await newUser(srv.url, { name: 'Connect Other' });
      const ca = await connect(srv.url, a, { ...T, label: 'A' });
      const cb = await connect(srv.url, b, { ...T, label: 'B', autoAck: true });
      try {
        const self = a.user._id;
        const forbidden = [
          [], [null], [self], [42], [[self]], [{}], [{ userId: 123 }], [{ userId: b.user._id }], [{ userId: [self] }],
          [{ userId: { $eq: self } }], [{ userId: self.toUpperCase() }], [{ userId: `${self} ` }], [{ userId: 'x'.repeat(HUGE) }],
          [{ userId: nested(60, self) }], [{ userId: b.user._id }, { userId: self }],
        ];
        for (const args of forbidden) {
          assert.deepEqual(await emitAck(ca, 'user:connect', ...args), { ok: false, error: 'forbidden' }, JSON.stringify(args).slice(0, 120));
        }
        assert.deepEqual(await emitAck(ca, 'user:connect', { userId: self }, 'extra', { userId: b.user._id }), { ok: true });
        for (const args of forbidden) ca.socket.emit('user:connect', ...args);
        // Still A: a message from this socket is from A.
        const m = await ca.send(b, 'who am I');
        assert.equal(m.from, self);
        assert.equal((await cb.waitReceived(m._id)).args[0].message.from, self);
        await assertAlive();
      } finally {
        ca.close(); cb.close();
      }
    });

    test('message:received acked with wrong shapes or twice: each counts once, one message:delivered each', async () => {
      const a = await newUser(srv.url, { name: 'Ack Sender' });
      const b = await newUser(srv.url, { name: 'Ack Hostile' });
      const ca = await connect(srv.url, a, { ...T, label: 'A' });
      const cb = await connect(srv.url, b, { ...T, label: 'B' });
      try {
        const shapes = [[], [null], ['x'.repeat(HUGE)], [1, 2, 3], [nested(60)], [Buffer.from('bin')], [{ ok: false, error: 'nope' }], [{ messageId: 'f'.repeat(24) }]];
        const sent = [];
        for (const [i, args] of shapes.entries()) {
          const m = await ca.send(b, `ack shape ${i}`);
          sent.push(m);
          const e = await cb.waitReceived(m._id);
          e.ack(...args);
          e.ack(...args); // a second ack of the same id is ignored
        }
        for (const m of sent) await ca.waitEvent('message:delivered', (p) => p.messageId === m._id);
        const c = await newUser(srv.url, { name: 'Ack Prober' });
        await barrier(srv.url, c, a, [ca]);
        for (const m of sent) assert.equal(ca.all('message:delivered', (p) => p.messageId === m._id).length, 1, `seq ${m.seq}`);
        assert.ok((await historyAfterSeq(srv.url, a, b.user._id)).every((m) => m.delivered));
        await assertAlive();
      } finally {
        ca.close(); cb.close();
      }
    });
  });
}

// ------------------------------------------------------ raw Socket.IO frames

/** A WebSocket Engine.IO session connected to "/" as `token`, past users:online. */
async function rawSession(token) {
  const { client } = await wsOpen(srv.url, '/socket.io/');
  await client.send(`40${JSON.stringify({ token })}`);
  assert.match(await client.next(5000, 'the CONNECT answer'), /^40\{"sid":"[^"]+"\}$/);
  assert.match(await client.next(5000, 'users:online'), /^42\["users:online",/);
  return client;
}

/** Frames up to the first that matches `pred`: {before, match}. */
async function framesUntil(client, pred, what, timeoutMs = 10_000) {
  const before = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const f = await client.next(Math.max(1, deadline - Date.now()), what);
    if (pred(f)) return { before, match: f };
    before.push(f);
  }
}

describe('hostile payloads (raw frames)', () => {
  test('events without an ack id get no answer at all; the next ack answered is the one asked for', async () => {
    const a = await newUser(srv.url, { name: 'Raw Hostile' });
    const b = await newUser(srv.url, { name: 'Raw Target' });
    const client = await rawSession(a.token);
    try {
      for (const [, args] of sendCases(a.user._id, b.user._id)) {
        if (args.some((x) => Buffer.isBuffer(x?.text))) continue;
        await client.send(`42${JSON.stringify(['message:send', ...args])}`);
      }
      for (const p of [null, 'x', { conversationId: 5 }, { conversationId: 'f'.repeat(24) }]) await client.send(`42${JSON.stringify(['message:read', p])}`);
      for (const p of [null, { userId: b.user._id }]) await client.send(`42${JSON.stringify(['user:connect', p])}`);
      await client.send(`42${JSON.stringify(['typing', { to: b.user._id, isTyping: true }])}`);
      // typing takes no ack: one asked for is not answered either.
      await client.send(`4277${JSON.stringify(['typing', { to: b.user._id, isTyping: false }])}`);
      // A valid send with an ack goes through the same store queue after all of them.
      await client.send(`4291${JSON.stringify(['message:send', { to: b.user._id, text: 'the one valid send' }])}`);
      const { before, match } = await framesUntil(client, (f) => f.startsWith('4391['), 'the ack of the valid send');
      assert.deepEqual(before.filter((f) => f.startsWith('43')), [], 'no ack for the events that asked for none');
      const ack = JSON.parse(match.slice(4))[0];
      assert.equal(ack.ok, true, match);
      const stored = await historyAfterSeq(srv.url, a, b.user._id);
      assert.deepEqual(stored.map((m) => m.text), ['the one valid send'], 'only the valid send is stored');
      await assertAlive();
    } finally { client.close(); }
  });

  test('nesting past JSON_MAX_DEPTH closes only that session; nothing stored, the user reconnects', async () => {
    const a = await newUser(srv.url, { name: 'Deep Hostile' });
    const b = await newUser(srv.url, { name: 'Deep Target' });
    const cb = await connect(srv.url, b, { label: 'B' });
    try {
      for (const frame of [
        `421${JSON.stringify(['message:send', { to: b.user._id, text: nested(70) }])}`,
        `42${JSON.stringify(['message:send', { to: nested(100, b.user._id), text: 'x' }])}`,
        `421${JSON.stringify(['typing', nested(200)])}`,
        `421["message:read",${'['.repeat(10_000)}${']'.repeat(10_000)}]`,
      ]) {
        const client = await rawSession(a.token);
        try {
          await client.send(frame);
          const closed = await client.waitClose(5000);
          assert.ok(closed, 'the session is closed');
          assert.deepEqual(client.queue.filter((f) => f.startsWith('43')), [], 'no ack before the close');
        } finally { client.close(); }
      }
      await assertAlive();
      // The other user's socket was never touched, and A connects again.
      const ca = await connect(srv.url, a, { label: 'A again' });
      try {
        const m = await ca.send(b, 'after the deep ones');
        await cb.waitReceived(m._id);
        assert.deepEqual((await historyAfterSeq(srv.url, a, b.user._id)).map((x) => x.text), ['after the deep ones']);
      } finally { ca.close(); }
    } finally { cb.close(); }
  });

  test('acks of message:received: unknown ids are ignored; an ack past JSON_MAX_DEPTH closes the session and leaves the message pending', async () => {
    const a = await newUser(srv.url, { name: 'Raw Ack Sender' });
    const b = await newUser(srv.url, { name: 'Raw Ack Receiver' });
    const client = await rawSession(b.token);
    try {
      const m1 = (await httpSend(srv.url, a, b, 'first')).body;
      const { match } = await framesUntil(client, (f) => /^42\d+\["message:received"/.test(f), 'message:received');
      const id = Number(match.match(/^42(\d+)\[/)[1]);
      assert.equal(JSON.parse(match.slice(2 + String(id).length))[1].message._id, m1._id);
      // Acks for ids never issued are ignored; the session goes on.
      for (const f of [`43${id + 1000}[]`, `43${id + 99_999}[{"ok":true}]`, `43${id + 1}["x"]`]) await client.send(f);
      await client.send(`4211${JSON.stringify(['user:connect', { userId: b.user._id }])}`);
      assert.equal((await framesUntil(client, (f) => f.startsWith('4311['), 'the user:connect ack')).match, '4311[{"ok":true}]');
      // An ack nested past the limit: the session is closed and the ack does not count.
      await client.send(`43${id}${'['.repeat(70)}${']'.repeat(70)}`);
      await client.waitClose(5000);
      // A later store write is committed after anything the ack could have queued.
      assert.equal((await httpSend(srv.url, a, b, 'second')).status, 201);
      const [first] = await historyAfterSeq(srv.url, a, b.user._id);
      assert.equal(first.delivered, false, 'an ack that did not parse must not mark the message delivered');
    } finally { client.close(); }
    // It is pending, so it comes again on the next connect, and then a plain ack counts.
    const again = await connect(srv.url, b, { label: 'B again' });
    try {
      const list = await historyAfterSeq(srv.url, a, b.user._id);
      for (const m of list) (await again.waitReceived(m._id)).ack();
      await waitFor(async () => (await historyAfterSeq(srv.url, a, b.user._id)).every((m) => m.delivered), { timeoutMs: 5000, what: 'delivered after the acks' });
    } finally { again.close(); }
    await assertAlive();
  });
});
