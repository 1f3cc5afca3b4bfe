// GET /api/users: everyone but the caller, ordered by name then _id, with
// limit/skip/q and validation.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, request, newUser } from './lib/server.mjs';
import { assertError, assertValidation, assertUser, assertSecurityHeaders } from './lib/checks.mjs';

// Registered in this order into a fresh database; names chosen so that the
// name order differs from the registration order, with a tie on "Bert".
const PEOPLE = [
  { name: 'Dave Quill', email: 'dave.quill@example.com' },
  { name: 'Bert', email: 'bert.one@example.com' },
  { name: 'Anna Zed', email: 'zz-anna@example.com' },
  { name: 'Bert', email: 'bert.two@example.org' },
  { name: 'Carl', email: 'Prefix.Carl@Example.com' },
  { name: 'Zed Prefix', email: 'zed.prefix@example.net' },
];

const cmp = (a, b) => (a < b ? -1 : a > b ? 1 : 0);
const byNameThenId = (a, b) => cmp(a.name, b.name) || cmp(a._id, b._id);

describe('GET /api/users', () => {
  let srv;
  let caller;
  let others;

  before(async () => {
    srv = await startServer({ env: { RATE_LIMIT_DISABLED: '1' } });
    others = [];
    for (const p of PEOPLE) others.push((await newUser(srv.url, p)).user);
    caller = await newUser(srv.url, { name: 'Caller', email: 'caller@example.com' });
  });
  after(async () => { if (srv) assert.equal(await srv.stop(), 0); });

  const list = (query = '', opts = {}) => request(srv.url, `/api/users${query}`, { token: caller.token, ...opts });

  test('everyone but the caller, ordered by name then _id, with online false', async () => {
    const res = await list();
    assert.equal(res.status, 200, res.text);
    assert.match(res.headers.get('content-type'), /^application\/json/);
    assertSecurityHeaders(res.headers);
    assert.ok(Array.isArray(res.body));
    const expected = [...others].sort(byNameThenId).map((u) => ({ ...u, online: false }));
    assert.deepEqual(res.body, expected);
    for (const u of res.body) assertUser(u, { online: false });
    assert.ok(!res.body.some((u) => u._id === caller.user._id), 'the caller is excluded');
    const berts = res.body.filter((u) => u.name === 'Bert');
    assert.equal(berts.length, 2);
    assert.ok(berts[0]._id < berts[1]._id, 'ties on name are ordered by _id');
    assert.equal(res.body.find((u) => u.name === 'Carl').email, 'prefix.carl@example.com');
  });

  test('the cookie works too, and each user sees everyone else', async () => {
    const res = await list('', { token: undefined, cookie: `token=${caller.token}` });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.length, PEOPLE.length);
    const dave = await request(srv.url, '/api/auth/login', { method: 'POST', body: { email: 'dave.quill@example.com', password: 'correct horse battery' } });
    const asDave = await request(srv.url, '/api/users', { token: dave.body.token });
    assert.equal(asDave.status, 200);
    assert.ok(!asDave.body.some((u) => u.name === 'Dave Quill'));
    assert.ok(asDave.body.some((u) => u.name === 'Caller'));
    assert.equal(asDave.body.length, PEOPLE.length);
  });

  test('limit and skip page through the order', async () => {
    const all = (await list()).body;
    assert.deepEqual((await list('?limit=2')).body, all.slice(0, 2));
    assert.deepEqual((await list('?limit=2&skip=2')).body, all.slice(2, 4));
    assert.deepEqual((await list('?skip=4&limit=10')).body, all.slice(4));
    assert.deepEqual((await list('?skip=0')).body, all);
    assert.deepEqual((await list('?limit=1')).body, all.slice(0, 1));
    assert.deepEqual((await list('?limit=200')).body, all);
    const past = await list('?skip=100');
    assert.equal(past.status, 200);
    assert.deepEqual(past.body, []);
  });

  test('q filters by a case-insensitive prefix of name or email', async () => {
    const names = async (q) => {
      const res = await list(`?q=${encodeURIComponent(q)}`);
      assert.equal(res.status, 200, `q=${q}: ${res.text}`);
      for (const u of res.body) assertUser(u, { online: false });
      return res.body.map((u) => `${u.name}|${u.email}`);
    };
    assert.deepEqual(await names('bert'), ['Bert|bert.one@example.com', 'Bert|bert.two@example.org']);
    assert.deepEqual(await names('BERT'), ['Bert|bert.one@example.com', 'Bert|bert.two@example.org']);
    assert.deepEqual(await names('bert.t'), ['Bert|bert.two@example.org']);
    assert.deepEqual(await names('zed'), ['Zed Prefix|zed.prefix@example.net'], 'a prefix, not a substring ("Anna Zed")');
    assert.deepEqual(await names('zz'), ['Anna Zed|zz-anna@example.com'], 'email prefix');
    assert.deepEqual(await names('PREFIX.'), ['Carl|prefix.carl@example.com'], 'email prefix, any case');
    assert.deepEqual(await names('prefix'), ['Carl|prefix.carl@example.com'], '"Zed Prefix" has it only inside');
    assert.deepEqual(await names('d'), ['Dave Quill|dave.quill@example.com']);
    assert.deepEqual(await names('example'), [], 'the domain is not a prefix');
    assert.deepEqual(await names('caller'), [], 'the caller stays excluded');
    assert.deepEqual(await names('nobody-here'), []);
    assert.equal((await names('')).length, PEOPLE.length, 'an empty q does not filter');
  });

  test('q is literal text: no wildcards, no patterns', async () => {
    const res = await Promise.all(['%', '_', 'b%', 'b_rt', '.*', '^B', '[a-z]', '\\', "'", '"', 'B.*'].map(
      (q) => list(`?q=${encodeURIComponent(q)}`),
    ));
    for (const r of res) {
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.body, [], `q should match nothing: ${r.text}`);
    }
  });

  test('q combines with limit and skip', async () => {
    const res = await list('?q=bert&limit=1&skip=1');
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.map((u) => u.email), ['bert.two@example.org']);
  });

  test('bad limit or skip is 400 validation_failed', async () => {
    for (const [query, field] of [
      ['?limit=0', 'limit'], ['?limit=201', 'limit'], ['?limit=abc', 'limit'], ['?limit=-1', 'limit'],
      ['?limit=1.5', 'limit'], ['?limit=10abc', 'limit'], ['?limit=99999999999999999999', 'limit'],
      ['?skip=-1', 'skip'], ['?skip=abc', 'skip'], ['?skip=1.5', 'skip'],
    ]) {
      const res = await list(query);
      assert.equal(res.status, 400, `${query}: ${res.status} ${res.text}`);
      assertValidation(res, [field]);
      assertSecurityHeaders(res.headers);
    }
  });

  test('no token, or a bad or revoked one: 401', async () => {
    assertError(await request(srv.url, '/api/users'), 401, 'unauthorized');
    assertError(await request(srv.url, '/api/users', { token: 'not.a.jwt' }), 401, 'unauthorized');
    const u = await newUser(srv.url, { name: 'Leaving' });
    assert.equal((await request(srv.url, '/api/users', { token: u.token })).status, 200);
    assert.equal((await request(srv.url, '/api/auth/logout', { method: 'POST', token: u.token })).status, 200);
    assertError(await request(srv.url, '/api/users', { token: u.token }), 401, 'unauthorized');
  });

  test('the default limit is 50 and limit goes up to 200', async () => {
    // Runs last: it adds users.
    const start = (await list('?limit=200')).body.length;
    const extra = 60 - start;
    for (let i = 0; i < extra; i += 1) {
      await newUser(srv.url, { name: `Zz Filler ${String(i).padStart(3, '0')}` });
    }
    const all = await list('?limit=200');
    assert.equal(all.body.length, 60);
    const def = await list();
    assert.equal(def.status, 200);
    assert.equal(def.body.length, 50);
    assert.deepEqual(def.body, all.body.slice(0, 50));
    assert.deepEqual((await list('?skip=50')).body, all.body.slice(50));
    const sorted = [...all.body].sort(byNameThenId);
    assert.deepEqual(all.body, sorted);
  });
});
