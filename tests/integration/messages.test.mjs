// Message routes: POST /api/messages/send, GET /api/messages/:id (limit,
// skip, before, afterSeq), GET /api/conversations, POST /api/messages/:id/read,
// and the per-user send rate limit. Concurrency and crash safety live in
// messages_concurrency.test.mjs and messages_crash.test.mjs.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, request, newUser, waitFor, ID_RE, ISO_MS_RE } from './lib/server.mjs';
import { assertError, assertValidation, assertSecurityHeaders, assertUser } from './lib/checks.mjs';
import { assertMessage, assertConversation, send, history, historyAfterSeq, historyBefore, assertSeqRun } from './lib/messages.mjs';

const NONEXISTENT_ID = '0123456789abcdef01234567';

let srv;
before(async () => { srv = await startServer({ env: { RATE_LIMIT_DISABLED: '1' } }); });
after(async () => { if (srv) assert.equal(await srv.stop(), 0); });

const user = (name) => newUser(srv.url, { name });
const post = (pathname, who, body, opts = {}) => request(srv.url, pathname, { method: 'POST', token: who?.token, body, ...opts });
const conversations = (who) => request(srv.url, '/api/conversations', { token: who.token });
const readPath = (id) => `/api/messages/${id}/read`;

/** Sends and asserts 201; returns the message. */
async function sent(from, to, text, extra = {}) {
  const res = await send(srv.url, from, to, text, extra);
  assert.equal(res.status, 201, `send: ${res.status} ${res.text}`);
  return res.body;
}

/** The whole conversation as `who` sees it, oldest first. */
async function everything(who, id) {
  const res = await history(srv.url, who, id, { limit: 200 });
  assert.equal(res.status, 200, res.text);
  return res.body;
}

describe('POST /api/messages/send', () => {
  let alice;
  let bob;
  before(async () => { alice = await user('Alice'); bob = await user('Bob'); });

  test('201 with the full Message, seq 1, undelivered and unread', async () => {
    const res = await send(srv.url, alice, bob, 'hello bob');
    assert.equal(res.status, 201, res.text);
    assert.match(res.headers.get('content-type'), /^application\/json/);
    assertSecurityHeaders(res.headers);
    const m = assertMessage(res.body, {
      from: alice.user._id, to: bob.user._id, text: 'hello bob', seq: 1,
      delivered: false, deliveredAt: null, read: false, readAt: null, tempId: undefined,
    });
    assert.ok(Math.abs(Date.parse(m.createdAt) - Date.now()) < 60_000, `createdAt ${m.createdAt} is now`);
    assert.notEqual(m._id, m.conversationId);
    // The stored copy is the same object.
    assert.deepEqual(await everything(alice, bob.user._id), [m]);
  });

  test('tempId is echoed when given, absent otherwise', async () => {
    const [carol, dan] = [await user('Carol'), await user('Dan')];
    const withTemp = await sent(carol, dan, 'one', { tempId: 'client-1' });
    assertMessage(withTemp, { tempId: 'client-1', seq: 1 });
    const without = await sent(carol, dan, 'two');
    assertMessage(without, { tempId: undefined, seq: 2 });
    const stored = await everything(dan, carol.user._id);
    assert.deepEqual(stored, [withTemp, without]);
  });

  test('the conversation id is stable across sends from either side and seq counts up', async () => {
    const [p, q] = [await user('Pat'), await user('Quinn')];
    const m1 = await sent(p, q, 'p1');
    const m2 = await sent(q, p, 'q1');
    const m3 = await sent(p, q, 'p2');
    const m4 = await sent(q, p, 'q2');
    assert.deepEqual([m1, m2, m3, m4].map((m) => m.seq), [1, 2, 3, 4]);
    const cid = m1.conversationId;
    for (const m of [m2, m3, m4]) assert.equal(m.conversationId, cid);
    assert.equal(m2.from, q.user._id);
    assert.equal(m2.to, p.user._id);
    const [cp] = (await conversations(p)).body;
    const [cq] = (await conversations(q)).body;
    assert.equal(cp._id, cid);
    assert.equal(cq._id, cid);
    assert.deepEqual([...cp.participants].sort(), [p.user._id, q.user._id].sort());
    // Both ids address the same conversation, for both participants.
    const byCid = await everything(p, cid);
    assert.deepEqual(byCid.map((m) => m._id), [m1, m2, m3, m4].map((m) => m._id));
    assert.deepEqual(await everything(p, q.user._id), byCid);
    assert.deepEqual(await everything(q, p.user._id), byCid);
    assert.deepEqual(await everything(q, cid), byCid);
    // Another pair gets another conversation, starting again at seq 1.
    const r = await user('Rae');
    const other = await sent(p, r, 'hi rae');
    assert.notEqual(other.conversationId, cid);
    assert.equal(other.seq, 1);
  });

  test('to: missing is 400, the caller is 400, malformed or unknown is 404', async () => {
    assertValidation(await post('/api/messages/send', alice, { text: 'x' }), ['to'], { exact: true });
    assertValidation(await post('/api/messages/send', alice, { to: null, text: 'x' }), ['to'], { exact: true });
    assertValidation(await post('/api/messages/send', alice, { to: alice.user._id, text: 'x' }), ['to'], { exact: true });
    for (const to of ['zzz', NONEXISTENT_ID, bob.user._id.toUpperCase(), bob.user._id.slice(0, 23), `${bob.user._id}0`, '../../api/users']) {
      assertError(await post('/api/messages/send', alice, { to, text: 'x' }), 404, 'not_found');
    }
    // Nothing was stored by any of them.
    const before = (await everything(alice, bob.user._id)).length;
    assertValidation(await post('/api/messages/send', alice, { to: alice.user._id, text: 'x' }), ['to']);
    assert.equal((await everything(alice, bob.user._id)).length, before);
  });

  test('text: missing, empty, only whitespace or over 4000 characters is 400', async () => {
    const [s, r] = [await user('S'), await user('R')];
    const bad = [
      {},
      { text: null },
      { text: '' },
      { text: ' ' },
      { text: ' \t\r\n ' },
      { text: '\u00a0' },
      { text: '\u3000' },
      { text: ' \u00a0\u3000\u2003\u2028\n\t' },
      { text: 'x'.repeat(4001) },
      { text: '\u{1F600}'.repeat(4001) },
    ];
    for (const b of bad) {
      const res = await post('/api/messages/send', s, { to: r.user._id, ...b });
      assertValidation(res, ['text'], { exact: true });
    }
    assert.deepEqual(await everything(s, r.user._id), [], 'nothing stored');
  });

  test('text: 4000 characters are accepted, counted in code points, and stored intact', async () => {
    const [s, r] = [await user('S'), await user('R')];
    const ascii = 'x'.repeat(4000);
    const emoji = '\u{1F600}'.repeat(4000); // 8000 UTF-16 units, 16000 bytes
    const mixed = `${'\u00e9'.repeat(1000)}${'\u4e2d'.repeat(1000)}${'\u{1F680}'.repeat(1000)}${'a'.repeat(1000)}`;
    const m1 = await sent(s, r, ascii);
    const m2 = await sent(s, r, emoji);
    const m3 = await sent(s, r, mixed);
    const m4 = await sent(s, r, '  padded  ');
    const m5 = await sent(s, r, 'a');
    assert.equal(m1.text, ascii);
    assert.equal(m2.text, emoji);
    assert.equal(m3.text, mixed);
    assert.equal(m5.text, 'a');
    const stored = await everything(r, s.user._id);
    assert.deepEqual(stored.map((m) => m.text), [ascii, emoji, mixed, m4.text, 'a']);
    assert.equal(m4.text.trim(), 'padded');
  });

  test('text that is not valid UTF-8 is 400 invalid_json', async () => {
    const [s, r] = [await user('S'), await user('R')];
    const head = Buffer.from(`{"to":"${r.user._id}","text":"`);
    const tail = Buffer.from('"}');
    for (const bytes of [[0xff], [0xc3], [0xed, 0xa0, 0x80], [0xc0, 0xaf]]) {
      const res = await post('/api/messages/send', s, Buffer.concat([head, Buffer.from('ok'), Buffer.from(bytes), tail]));
      assertError(res, 400, 'invalid_json');
    }
    // A lone surrogate escape is not a character either.
    for (const escape of ['\\ud800', '\\udc00']) {
      const lone = await post('/api/messages/send', s, `{"to":"${r.user._id}","text":"a${escape}b"}`);
      assert.equal(lone.status, 400, `${escape}: ${lone.text}`);
      assert.equal(lone.body.error, 'invalid_json', `${escape}: ${lone.text}`);
    }
    assert.deepEqual(await everything(s, r.user._id), []);
  });

  test('fields of the wrong type are 400 "must be a string"', async () => {
    for (const v of [5, true, { a: 1 }, ['x']]) {
      const res = await post('/api/messages/send', alice, { to: v, text: v, tempId: v });
      const body = assertValidation(res, ['to', 'text', 'tempId'], { exact: true });
      for (const f of ['to', 'text', 'tempId']) assert.equal(body.fields[f], 'must be a string', res.text);
    }
    const one = await post('/api/messages/send', alice, { to: bob.user._id, text: 42 });
    assert.equal(assertValidation(one, ['text'], { exact: true }).fields.text, 'must be a string');
    const two = await post('/api/messages/send', alice, { to: bob.user._id, text: 'ok', tempId: 42 });
    assert.equal(assertValidation(two, ['tempId'], { exact: true }).fields.tempId, 'must be a string');
  });

  test('tempId up to 64 code points; 65 is a 400', async () => {
    const [s, r] = [await user('S'), await user('R')];
    const ok = '\u{1F600}'.repeat(64);
    const m = await sent(s, r, 'x', { tempId: ok });
    assert.equal(m.tempId, ok);
    const m2 = await sent(s, r, 'y', { tempId: 'a'.repeat(64) });
    assert.equal(m2.tempId, 'a'.repeat(64));
    assertValidation(await send(srv.url, s, r, 'z', { tempId: '\u{1F600}'.repeat(65) }), ['tempId'], { exact: true });
    assertValidation(await send(srv.url, s, r, 'z', { tempId: 'a'.repeat(65) }), ['tempId'], { exact: true });
    assert.equal((await everything(s, r.user._id)).length, 2);
  });

  test('several problems are reported together', async () => {
    const res = await post('/api/messages/send', alice, {});
    assertValidation(res, ['to', 'text'], { exact: true });
    const res2 = await post('/api/messages/send', alice, { to: alice.user._id, text: ' ', tempId: 'a'.repeat(65) });
    assertValidation(res2, ['to', 'text', 'tempId'], { exact: true });
  });

  test('a retry with the same sender and tempId is 200 with the original message, never a duplicate', async () => {
    const [s, r] = [await user('S'), await user('R')];
    const first = await send(srv.url, s, r, 'once', { tempId: 'retry-me' });
    assert.equal(first.status, 201, first.text);
    await sent(s, r, 'in between');
    await sent(r, s, 'a reply');
    const again = await send(srv.url, s, r, 'once', { tempId: 'retry-me' });
    assert.equal(again.status, 200, again.text);
    assert.deepEqual(again.body, first.body);
    assertMessage(again.body, { seq: 1, tempId: 'retry-me' });
    // The retried text is not looked at: the original message comes back.
    const changed = await send(srv.url, s, r, 'changed text', { tempId: 'retry-me' });
    assert.equal(changed.status, 200, changed.text);
    assert.deepEqual(changed.body, first.body);
    const stored = await everything(s, r.user._id);
    assert.deepEqual(stored.map((m) => m.text), ['once', 'in between', 'a reply']);
    assert.deepEqual(stored.map((m) => m.seq), [1, 2, 3]);
  });

  test('the same tempId from another sender, or another tempId, is another message', async () => {
    const [s, r] = [await user('S'), await user('R')];
    const a = await send(srv.url, s, r, 'from s', { tempId: 'shared' });
    const b = await send(srv.url, r, s, 'from r', { tempId: 'shared' });
    const c = await send(srv.url, s, r, 'from s again', { tempId: 'shared-2' });
    assert.deepEqual([a.status, b.status, c.status], [201, 201, 201]);
    assert.equal(new Set([a.body._id, b.body._id, c.body._id]).size, 3);
    assert.deepEqual([a.body.seq, b.body.seq, c.body.seq], [1, 2, 3]);
    // tempId is unique per sender: reusing it towards someone else returns the original.
    const t = await user('T');
    const reused = await send(srv.url, s, t, 'to t', { tempId: 'shared' });
    assert.equal(reused.status, 200, reused.text);
    assert.equal(reused.body._id, a.body._id);
    assert.deepEqual(await everything(s, t.user._id), []);
    // tempIds are case-sensitive strings.
    const upper = await send(srv.url, s, r, 'upper', { tempId: 'SHARED' });
    assert.equal(upper.status, 201, upper.text);
  });

  test('401 without a valid token, and nothing is stored', async () => {
    const [s, r] = [await user('S'), await user('R')];
    const none = await request(srv.url, '/api/messages/send', { method: 'POST', body: { to: r.user._id, text: 'x' } });
    assertError(none, 401, 'unauthorized');
    const bad = await request(srv.url, '/api/messages/send', { method: 'POST', token: `${s.token}x`, body: { to: r.user._id, text: 'x' } });
    assertError(bad, 401, 'unauthorized');
    // The auth cookie works as well as the header.
    const viaCookie = await request(srv.url, '/api/messages/send', { method: 'POST', cookie: `token=${s.token}`, body: { to: r.user._id, text: 'cookie' } });
    assert.equal(viaCookie.status, 201, viaCookie.text);
    assert.equal(viaCookie.body.from, s.user._id);
    assert.deepEqual((await everything(r, s.user._id)).map((m) => m.text), ['cookie']);
  });

  test('the sender is the token\'s user, never a "from" in the body', async () => {
    const [s, r, x] = [await user('S'), await user('R'), await user('X')];
    const m = await sent(s, r, 'mine', { from: x.user._id });
    assert.equal(m.from, s.user._id);
    assert.deepEqual(await everything(x, r.user._id), []);
  });

  test('415 for another content type, 400 for invalid JSON or a non-object body', async () => {
    const to = bob.user._id;
    assertError(await post('/api/messages/send', alice, JSON.stringify({ to, text: 'x' }), { contentType: 'text/plain' }), 415, 'unsupported_media_type');
    assertError(await post('/api/messages/send', alice, `{"to":"${to}","text":"x"`), 400, 'invalid_json');
    assertError(await post('/api/messages/send', alice, '{"to":'), 400, 'invalid_json');
    for (const body of ['[1]', '"text"', '42', 'null']) {
      const res = await post('/api/messages/send', alice, body);
      assert.equal(res.status, 400, `${body}: ${res.status} ${res.text}`);
    }
  });

  test('wrong methods are 405 with Allow', async () => {
    const res = await request(srv.url, '/api/messages/send', { method: 'DELETE', token: alice.token });
    assertError(res, 405, 'method_not_allowed');
    assert.ok(res.headers.get('allow'), 'Allow header');
  });
});

describe('GET /api/messages/:id', () => {
  let a; // sends most of the messages
  let b;
  let c; // a third user, in no conversation with a and b
  let cid;
  let all; // the 60 messages of a<->b, oldest first
  const N = 60;

  before(async () => {
    a = await user('Hist A');
    b = await user('Hist B');
    c = await user('Hist C');
    all = [];
    for (let i = 1; i <= N; i += 1) {
      // Mostly from a, every fifth from b.
      const m = i % 5 === 0 ? await sent(b, a, `msg ${i}`) : await sent(a, b, `msg ${i}`);
      all.push(m);
    }
    cid = all[0].conversationId;
  });

  const seqs = (res) => {
    assert.equal(res.status, 200, `${res.status} ${res.text}`);
    assert.ok(Array.isArray(res.body));
    return res.body.map((m) => m.seq);
  };
  const range = (from, to) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

  test('the messages as sent, oldest first, the same by conversation id or peer id, for both sides', async () => {
    const res = await history(srv.url, a, cid, { limit: 200 });
    assert.equal(res.status, 200, res.text);
    assert.match(res.headers.get('content-type'), /^application\/json/);
    assertSecurityHeaders(res.headers);
    assert.deepEqual(res.body, all);
    for (const m of res.body) assertMessage(m, { conversationId: cid });
    assert.deepEqual(seqs(res), range(1, N));
    assert.deepEqual((await history(srv.url, a, b.user._id, { limit: 200 })).body, all);
    assert.deepEqual((await history(srv.url, b, a.user._id, { limit: 200 })).body, all);
    assert.deepEqual((await history(srv.url, b, cid, { limit: 200 })).body, all);
  });

  test('the default page is the newest 50, oldest first', async () => {
    assert.deepEqual(seqs(await history(srv.url, a, cid)), range(N - 49, N));
    assert.deepEqual(seqs(await history(srv.url, b, a.user._id)), range(N - 49, N));
  });

  test('limit picks the newest page, 1 to 200', async () => {
    assert.deepEqual(seqs(await history(srv.url, a, cid, { limit: 1 })), [N]);
    assert.deepEqual(seqs(await history(srv.url, a, cid, { limit: 10 })), range(N - 9, N));
    assert.deepEqual(seqs(await history(srv.url, a, cid, { limit: 200 })), range(1, N));
    assert.deepEqual(seqs(await history(srv.url, a, cid, { limit: N })), range(1, N));
  });

  test('skip skips the newest messages', async () => {
    assert.deepEqual(seqs(await history(srv.url, a, cid, { limit: 10, skip: 5 })), range(N - 14, N - 5));
    assert.deepEqual(seqs(await history(srv.url, a, cid, { skip: 0 })), range(N - 49, N));
    assert.deepEqual(seqs(await history(srv.url, a, cid, { skip: 20 })), range(1, N - 20));
    assert.deepEqual(seqs(await history(srv.url, a, cid, { limit: 10, skip: N - 3 })), [1, 2, 3]);
    assert.deepEqual(seqs(await history(srv.url, a, cid, { skip: N })), []);
    assert.deepEqual(seqs(await history(srv.url, a, cid, { skip: 100000 })), []);
    // Pages of 7 with skip cover everything exactly once.
    const pages = [];
    for (let skip = 0; skip < N; skip += 7) pages.unshift(seqs(await history(srv.url, a, cid, { limit: 7, skip })));
    assert.deepEqual(pages.flat(), range(1, N));
  });

  test('before gives the newest messages older than a message', async () => {
    const at = (seq) => all[seq - 1]._id;
    assert.deepEqual(seqs(await history(srv.url, a, cid, { before: at(30), limit: 10 })), range(20, 29));
    assert.deepEqual(seqs(await history(srv.url, a, cid, { before: at(30) })), range(1, 29));
    assert.deepEqual(seqs(await history(srv.url, b, a.user._id, { before: at(N), limit: 3 })), [N - 3, N - 2, N - 1]);
    assert.deepEqual(seqs(await history(srv.url, a, cid, { before: at(2) })), [1]);
    assert.deepEqual(seqs(await history(srv.url, a, cid, { before: at(1) })), []);
    // An empty before is no cursor at all.
    assert.deepEqual(seqs(await history(srv.url, a, cid, { before: '', limit: 2 })), [N - 1, N]);
    // Paging backwards with before reconstructs the conversation.
    const paged = await historyBefore(srv.url, a, cid, { limit: 7 });
    assert.deepEqual(paged, all);
  });

  test('afterSeq gives the messages after a seq, oldest first, up to limit', async () => {
    assert.deepEqual(seqs(await history(srv.url, a, cid, { afterSeq: 0, limit: 10 })), range(1, 10));
    assert.deepEqual(seqs(await history(srv.url, a, cid, { afterSeq: 0 })), range(1, 50));
    assert.deepEqual(seqs(await history(srv.url, a, cid, { afterSeq: 25, limit: 5 })), range(26, 30));
    assert.deepEqual(seqs(await history(srv.url, b, a.user._id, { afterSeq: N - 3 })), [N - 2, N - 1, N]);
    assert.deepEqual(seqs(await history(srv.url, a, cid, { afterSeq: N })), []);
    assert.deepEqual(seqs(await history(srv.url, a, cid, { afterSeq: 1000000 })), []);
    const paged = await historyAfterSeq(srv.url, a, cid, { limit: 7 });
    assert.deepEqual(paged, all);
    assertSeqRun(paged, N);
  });

  test('a peer with no messages yet gives []', async () => {
    const res = await history(srv.url, a, c.user._id);
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body, []);
    assert.deepEqual((await history(srv.url, c, a.user._id)).body, []);
    assert.deepEqual((await history(srv.url, c, a.user._id, { limit: 5, skip: 3 })).body, []);
  });

  test('a conversation the caller is not in is 404, exactly like one that does not exist', async () => {
    const stranger = await history(srv.url, c, cid);
    assertError(stranger, 404, 'not_found');
    const missing = await history(srv.url, c, NONEXISTENT_ID);
    assertError(missing, 404, 'not_found');
    assert.deepEqual(stranger.body, missing.body);
    assertError(await history(srv.url, a, NONEXISTENT_ID), 404, 'not_found');
    // With query parameters too.
    assertError(await history(srv.url, c, cid, { limit: 10, before: all[5]._id }), 404, 'not_found');
    assertError(await history(srv.url, c, cid, { afterSeq: 0 }), 404, 'not_found');
    // Asking by a participant's user id gives the stranger only their own (empty) conversation.
    assert.deepEqual((await history(srv.url, c, b.user._id)).body, []);
  });

  test('a malformed id or an unknown user id is 404', async () => {
    for (const id of ['zzz', NONEXISTENT_ID, cid.toUpperCase(), cid.slice(0, 23), `${cid}00`]) {
      assertError(await history(srv.url, a, id), 404, 'not_found');
    }
  });

  test('limit, skip and afterSeq out of range are 400', async () => {
    for (const limit of ['0', '201', '-1', 'abc', '1.5', '', '10x']) {
      assertValidation(await request(srv.url, `/api/messages/${cid}?limit=${limit}`, { token: a.token }), ['limit'], { exact: true });
    }
    for (const skip of ['-1', 'x', '1.5']) {
      assertValidation(await request(srv.url, `/api/messages/${cid}?skip=${skip}`, { token: a.token }), ['skip'], { exact: true });
    }
    for (const afterSeq of ['-1', 'x', '2.5']) {
      assertValidation(await request(srv.url, `/api/messages/${cid}?afterSeq=${afterSeq}`, { token: a.token }), ['afterSeq'], { exact: true });
    }
    // Contract v1.1: afterSeq with any before or skip parameter.
    for (const extra of [`before=${all[3]._id}`, 'skip=0', 'skip=5', 'before=']) {
      assertValidation(await request(srv.url, `/api/messages/${cid}?afterSeq=1&${extra}`, { token: a.token }), ['afterSeq'], { exact: true });
    }
  });

  test('a malformed before, or one that is not a message of this conversation, is 400', async () => {
    for (const before of ['zzz', 'not-an-id', all[3]._id.toUpperCase(), all[3]._id.slice(1)]) {
      assertValidation(await history(srv.url, a, cid, { before }), ['before'], { exact: true });
    }
    // Well-formed but unknown.
    assertValidation(await history(srv.url, a, cid, { before: NONEXISTENT_ID }), ['before'], { exact: true });
    // A conversation id or a user id is not a message id.
    assertValidation(await history(srv.url, a, cid, { before: cid }), ['before'], { exact: true });
    // A message of another conversation of the same caller.
    const elsewhere = await sent(a, c, 'elsewhere');
    assertValidation(await history(srv.url, a, cid, { before: elsewhere._id }), ['before'], { exact: true });
    assertValidation(await history(srv.url, a, c.user._id, { before: all[3]._id }), ['before'], { exact: true });
  });

  test('401 without a valid token', async () => {
    assertError(await request(srv.url, `/api/messages/${cid}`), 401, 'unauthorized');
    assertError(await request(srv.url, `/api/messages/${cid}`, { token: 'abc.def.ghi' }), 401, 'unauthorized');
  });
});

describe('GET /api/conversations', () => {
  test('a new user has none', async () => {
    const u = await user('Lonely');
    const res = await conversations(u);
    assert.equal(res.status, 200, res.text);
    assertSecurityHeaders(res.headers);
    assert.deepEqual(res.body, []);
  });

  test('peer, lastMessage, unreadCount, most recent activity first', async () => {
    const me = await user('Me');
    const x = await user('Xavier');
    const y = await user('Yolanda');
    const z = await user('Zoe');
    const mx = await sent(me, x, 'to x');
    const my1 = await sent(y, me, 'from y 1');
    const my2 = await sent(y, me, 'from y 2');
    const mz = await sent(me, z, 'to z');
    const mx2 = await sent(x, me, 'from x');

    let list = (await conversations(me)).body;
    assert.equal(list.length, 3);
    for (const c of list) assertConversation(c, { me: me.user._id });
    assert.deepEqual(list.map((c) => c.peer._id), [x.user._id, z.user._id, y.user._id]);
    const [cx, cz, cy] = list;
    assert.equal(cx._id, mx.conversationId);
    assert.equal(cy._id, my1.conversationId);
    assert.equal(cz._id, mz.conversationId);
    assertUser(cx.peer, { name: 'Xavier', email: x.email });
    assert.deepEqual(cx.peer, x.user);
    assert.deepEqual([...cx.participants].sort(), [me.user._id, x.user._id].sort());
    assert.deepEqual(cx.lastMessage, mx2);
    assert.deepEqual(cy.lastMessage, my2);
    assert.deepEqual(cz.lastMessage, mz);
    assert.deepEqual([cx.unreadCount, cy.unreadCount, cz.unreadCount], [1, 2, 0]);
    for (const c of list) {
      assert.ok(Date.parse(c.updatedAt) >= Date.parse(c.lastMessage.createdAt), `updatedAt ${c.updatedAt} vs ${c.lastMessage.createdAt}`);
    }
    for (let i = 1; i < list.length; i += 1) {
      assert.ok(list[i - 1].updatedAt >= list[i].updatedAt, 'ordered by updatedAt, newest first');
    }

    // New activity in the oldest conversation moves it to the front.
    const my3 = await sent(me, y, 'back to y');
    list = (await conversations(me)).body;
    assert.deepEqual(list.map((c) => c.peer._id), [y.user._id, x.user._id, z.user._id]);
    assert.deepEqual(list[0].lastMessage, my3);
    assert.equal(list[0].unreadCount, 2, 'my own messages are not unread for me');

    // The other side sees the same conversation with me as the peer.
    const ylist = (await conversations(y)).body;
    assert.equal(ylist.length, 1);
    assertConversation(ylist[0], { me: y.user._id, peer: me.user._id });
    assert.equal(ylist[0]._id, my1.conversationId);
    assert.deepEqual(ylist[0].peer, me.user);
    assert.deepEqual(ylist[0].lastMessage, my3);
    assert.equal(ylist[0].unreadCount, 1);
  });

  test('401 without a valid token; 405 for another method', async () => {
    assertError(await request(srv.url, '/api/conversations'), 401, 'unauthorized');
    const u = await user('U');
    const res = await request(srv.url, '/api/conversations', { method: 'DELETE', token: u.token });
    assertError(res, 405, 'method_not_allowed');
    assert.ok(res.headers.get('allow'));
  });
});

describe('POST /api/messages/:id/read', () => {
  test('marks the peer\'s messages up to upTo read and delivered; unread counts go down', async () => {
    const reader = await user('Reader');
    const writer = await user('Writer');
    const mine = await sent(reader, writer, 'from the reader');
    const theirs = [];
    for (let i = 1; i <= 5; i += 1) theirs.push(await sent(writer, reader, `w${i}`));
    const cid = mine.conversationId;
    const unread = async (who) => (await conversations(who)).body.find((c) => c._id === cid).unreadCount;
    assert.equal(await unread(reader), 5);
    assert.equal(await unread(writer), 1);

    // Up to the third of the writer's messages, by conversation id.
    const r1 = await post(readPath(cid), reader, { upTo: theirs[2]._id });
    assert.equal(r1.status, 200, r1.text);
    assertSecurityHeaders(r1.headers);
    assert.deepEqual(Object.keys(r1.body).sort(), ['conversationId', 'count', 'readAt', 'upTo']);
    assert.equal(r1.body.conversationId, cid);
    assert.equal(r1.body.upTo, theirs[2]._id);
    assert.equal(r1.body.count, 3);
    assert.match(r1.body.readAt, ISO_MS_RE);
    assert.equal(await unread(reader), 2);
    assert.equal(await unread(writer), 1, 'the reader\'s own messages stay unread for the writer');

    let h = await everything(writer, reader.user._id);
    const byId = (list) => Object.fromEntries(list.map((m) => [m._id, m]));
    let m = byId(h);
    for (const t of theirs.slice(0, 3)) {
      assertMessage(m[t._id], { read: true, readAt: r1.body.readAt, delivered: true });
      assert.ok(m[t._id].deliveredAt <= m[t._id].readAt, 'delivered no later than read');
    }
    for (const t of theirs.slice(3)) assertMessage(m[t._id], { read: false, readAt: null, delivered: false, deliveredAt: null });
    assertMessage(m[mine._id], { read: false, readAt: null, delivered: false, deliveredAt: null });
    // Both participants see the same state.
    assert.deepEqual(await everything(reader, cid), h);

    // Make the two reads' times differ, then read the rest by peer id with no body.
    await new Promise((resolve) => { const t0 = Date.now(); const spin = () => (Date.now() > t0 + 5 ? resolve() : setImmediate(spin)); spin(); });
    const r2 = await post(readPath(writer.user._id), reader, undefined);
    assert.equal(r2.status, 200, r2.text);
    assert.equal(r2.body.conversationId, cid);
    assert.equal(r2.body.upTo, theirs[4]._id, 'upTo defaults to the peer\'s last message');
    assert.equal(r2.body.count, 2);
    assert.ok(r2.body.readAt > r1.body.readAt, `${r2.body.readAt} after ${r1.body.readAt}`);
    assert.equal(await unread(reader), 0);
    h = await everything(writer, cid);
    m = byId(h);
    for (const t of theirs.slice(0, 3)) assert.equal(m[t._id].readAt, r1.body.readAt, 'an earlier read keeps its time');
    for (const t of theirs.slice(3)) assertMessage(m[t._id], { read: true, readAt: r2.body.readAt, delivered: true });
    assertMessage(m[mine._id], { read: false, delivered: false });
    // The conversation list shows the read state of its last message; reading is not activity.
    for (const who of [reader, writer]) {
      const conv = (await conversations(who)).body.find((c) => c._id === cid);
      assert.deepEqual(conv.lastMessage, m[theirs[4]._id]);
      assert.equal(conv.updatedAt >= theirs[4].createdAt, true);
    }

    // A second call finds nothing more; an older upTo too.
    const r3 = await post(readPath(cid), reader, {});
    assert.equal(r3.status, 200, r3.text);
    assert.equal(r3.body.count, 0);
    const r4 = await post(readPath(cid), reader, { upTo: theirs[0]._id });
    assert.equal(r4.status, 200, r4.text);
    assert.equal(r4.body.count, 0);
    assert.equal((await everything(writer, cid)).find((x) => x._id === theirs[0]._id).readAt, r1.body.readAt);

    // The writer reads the reader's message.
    const w1 = await post(readPath(cid), writer, {});
    assert.equal(w1.status, 200, w1.text);
    assert.equal(w1.body.count, 1);
    assert.equal(w1.body.upTo, mine._id);
    assert.equal(await unread(writer), 0);
    assertMessage((await everything(reader, cid)).find((x) => x._id === mine._id), { read: true, readAt: w1.body.readAt, delivered: true });

    // New messages after a read are unread again.
    await sent(writer, reader, 'w6');
    assert.equal(await unread(reader), 1);
    const last = (await conversations(reader)).body.find((c) => c._id === cid).lastMessage;
    assertMessage(last, { text: 'w6', read: false, delivered: false });
  });

  test('upTo may be one of the caller\'s own messages: the peer\'s messages before it are read', async () => {
    const [r, w] = [await user('R'), await user('W')];
    const w1 = await sent(w, r, 'w1');
    const w2 = await sent(w, r, 'w2');
    const own = await sent(r, w, 'r1');
    await sent(w, r, 'w3');
    const res = await post(readPath(w.user._id), r, { upTo: own._id });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.count, 2);
    const h = await everything(r, w.user._id);
    assert.deepEqual(h.map((m) => m.read), [true, true, false, false]);
    assert.deepEqual(h.map((m) => m._id).slice(0, 2), [w1._id, w2._id]);
    assert.equal((await conversations(r)).body[0].unreadCount, 1);
  });

  test('upTo of another conversation, malformed or not a string is 400; nothing changes', async () => {
    const [r, w, o] = [await user('R'), await user('W'), await user('O')];
    const m = await sent(w, r, 'w1');
    const other = await sent(o, r, 'o1');
    assertValidation(await post(readPath(m.conversationId), r, { upTo: other._id }), ['upTo'], { exact: true });
    assertValidation(await post(readPath(w.user._id), r, { upTo: NONEXISTENT_ID }), ['upTo'], { exact: true });
    assertValidation(await post(readPath(w.user._id), r, { upTo: 'zzz' }), ['upTo'], { exact: true });
    assertValidation(await post(readPath(w.user._id), r, { upTo: m.conversationId }), ['upTo'], { exact: true });
    const typed = await post(readPath(w.user._id), r, { upTo: 7 });
    assert.equal(assertValidation(typed, ['upTo'], { exact: true }).fields.upTo, 'must be a string');
    const h = await everything(r, w.user._id);
    assertMessage(h[0], { read: false, delivered: false });
    const list = (await conversations(r)).body;
    assert.deepEqual(list.map((c) => c.unreadCount), [1, 1]);
  });

  test('a conversation the caller is not in is 404, like one that does not exist', async () => {
    const [r, w, stranger] = [await user('R'), await user('W'), await user('Stranger')];
    const m = await sent(w, r, 'private');
    const notMine = await post(readPath(m.conversationId), stranger, {});
    assertError(notMine, 404, 'not_found');
    const missing = await post(readPath(NONEXISTENT_ID), stranger, {});
    assertError(missing, 404, 'not_found');
    assert.deepEqual(notMine.body, missing.body);
    assertError(await post(readPath(m.conversationId), stranger, { upTo: m._id }), 404, 'not_found');
    assertError(await post(readPath('zzz'), r, {}), 404, 'not_found');
    assertMessage((await everything(r, m.conversationId))[0], { read: false });
  });

  test('401 without a token; 415 and invalid_json as usual; 405 for GET', async () => {
    const [r, w] = [await user('R'), await user('W')];
    const m = await sent(w, r, 'x');
    assertError(await request(srv.url, readPath(m.conversationId), { method: 'POST', body: {} }), 401, 'unauthorized');
    assertError(await post(readPath(m.conversationId), r, '{}', { contentType: 'text/plain' }), 415, 'unsupported_media_type');
    assertError(await post(readPath(m.conversationId), r, '{"upTo":'), 400, 'invalid_json');
    const get = await request(srv.url, readPath(m.conversationId), { token: r.token });
    assertError(get, 405, 'method_not_allowed');
    assert.ok(get.headers.get('allow'));
    assertMessage((await everything(r, m.conversationId))[0], { read: false });
  });
});

describe('send rate limit (defaults: 20/s per user, bursts of 50)', () => {
  let limited;
  before(async () => { limited = await startServer(); });
  after(async () => { if (limited) assert.equal(await limited.stop(), 0); });

  test('a burst over 50 gets 429 rate_limited with Retry-After, and nothing of it is stored', async () => {
    const s = await newUser(limited.url, { name: 'Burst' });
    const r = await newUser(limited.url, { name: 'Target' });
    const BURST = 150;  // the refill (20/s) cannot keep up unless they trickle in over 5 s
    const started = Date.now();
    const results = await Promise.all(Array.from({ length: BURST }, (_, i) =>
      send(limited.url, s, r, `burst ${i}`).then((res) => ({ i, res }))));
    const elapsed = (Date.now() - started) / 1000;
    const ok = results.filter((x) => x.res.status === 201);
    const refused = results.filter((x) => x.res.status === 429);
    assert.equal(ok.length + refused.length, BURST, `only 201 and 429: ${results.map((x) => x.res.status)}`);
    assert.ok(ok.length >= 50, `the burst allowance of 50 is honoured: ${ok.length}`);
    assert.ok(ok.length <= 50 + Math.ceil(elapsed * 20) + 1, `${ok.length} accepted in ${elapsed}s`);
    assert.ok(refused.length > 0, 'some were refused');
    for (const { res } of refused) {
      assertError(res, 429, 'rate_limited');
      assertSecurityHeaders(res.headers);
      const retry = res.headers.get('retry-after');
      assert.match(retry ?? '', /^\d+$/, `Retry-After: ${retry}`);
      assert.ok(Number(retry) >= 1 && Number(retry) <= 60, `Retry-After ${retry}`);
    }
    // Exactly the accepted ones are stored, with seq 1..n.
    const stored = await historyAfterSeq(limited.url, s, r.user._id);
    assertSeqRun(stored, ok.length);
    assert.deepEqual(new Set(stored.map((m) => m._id)), new Set(ok.map((x) => x.res.body._id)));
    const storedTexts = new Set(stored.map((m) => m.text));
    for (const { i } of refused) assert.ok(!storedTexts.has(`burst ${i}`), `refused burst ${i} was stored`);

    // The limit is per user: the recipient can still send.
    const reply = await send(limited.url, r, s, 'not limited');
    assert.equal(reply.status, 201, reply.text);
    // Invalid sends are refused as invalid, not limited.
    assertValidation(await send(limited.url, s, r, ' '), ['text']);
    // Reading is not limited.
    assert.equal((await history(limited.url, s, r.user._id)).status, 200);
    // The bucket refills: the sender gets through again after a while.
    const again = await waitFor(async () => {
      const res = await send(limited.url, s, r, 'after the pause');
      if (res.status === 201) return res;
      assertError(res, 429, 'rate_limited');
      return null;
    }, { timeoutMs: 10_000, intervalMs: 100, what: 'the limit to lift' });
    assert.equal(again.body.seq, ok.length + 2);
  });
});

// Ids in these tests look like the contract's ObjectIds.
test('ids are ObjectId-shaped and sort by creation', async () => {
  const [s, r] = [await user('S'), await user('R')];
  const m1 = await sent(s, r, '1');
  const m2 = await sent(s, r, '2');
  for (const id of [m1._id, m1.conversationId, m2._id]) assert.match(id, ID_RE);
  assert.ok(m1._id < m2._id, 'message ids increase');
  const secs = parseInt(m1._id.slice(0, 8), 16);
  assert.ok(Math.abs(secs - Date.now() / 1000) < 120, 'the first 4 bytes are the creation time in seconds');
});
