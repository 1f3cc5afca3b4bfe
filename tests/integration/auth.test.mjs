// POST /api/auth/register, /api/auth/login, /api/auth/logout, GET /api/auth/me.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  startServer, request, register, login, newUser, uniqueEmail, parseSetCookie,
  decodeJwt, signJwt, waitFor, TEST_SECRET,
} from './lib/server.mjs';
import { assertError, assertValidation, assertUser, assertSecurityHeaders } from './lib/checks.mjs';

const SEVEN_DAYS = 7 * 24 * 3600;

function authCookie(res, name = 'token') {
  const all = res.cookies.map(parseSetCookie).filter((c) => c.name === name);
  assert.equal(all.length, 1, `exactly one Set-Cookie ${name}: ${JSON.stringify(res.cookies)}`);
  return all[0];
}

function assertAuthCookie(res, { name = 'token', maxAge = SEVEN_DAYS, secure = false } = {}) {
  const c = authCookie(res, name);
  assert.equal(c.value, res.body.token, 'cookie carries the token of the body');
  assert.equal(c.attrs.httponly, true, 'HttpOnly');
  assert.equal(c.attrs.path, '/', 'Path=/');
  assert.equal(String(c.attrs.samesite).toLowerCase(), 'lax', 'SameSite=Lax');
  assert.equal(c.attrs['max-age'], String(maxAge), 'Max-Age is the token lifetime in seconds');
  if (secure) assert.equal(c.attrs.secure, true, 'Secure with COOKIE_SECURE=true');
  else assert.equal(c.attrs.secure, undefined, 'no Secure without COOKIE_SECURE=true');
  return c;
}

function assertToken(token, userId, lifetime = SEVEN_DAYS) {
  assert.equal(typeof token, 'string');
  const parts = token.split('.');
  assert.equal(parts.length, 3, 'a JWT has three parts');
  const { header, payload } = decodeJwt(token);
  assert.equal(header.alg, 'HS256');
  assert.equal(payload.sub, userId);
  assert.equal(typeof payload.iat, 'number');
  assert.equal(typeof payload.exp, 'number');
  assert.equal(payload.exp - payload.iat, lifetime);
  assert.ok(Math.abs(payload.iat - Date.now() / 1000) < 120, 'iat is now');
  assert.equal(typeof payload.jti, 'string');
  assert.ok(payload.jti.length > 0);
}

describe('auth', () => {
  let srv;
  before(async () => { srv = await startServer({ env: { RATE_LIMIT_DISABLED: '1' } }); });
  after(async () => { if (srv) assert.equal(await srv.stop(), 0); });

  describe('register', () => {
    test('201 {user, token} with the exact user shape and the auth cookie', async () => {
      const email = uniqueEmail('Reg').replace('@example.com', '@Example.COM');
      const before = Date.now();
      const res = await register(srv.url, { name: 'Ada Lovelace', email, password: 'correct horse battery' });
      assert.equal(res.status, 201, res.text);
      assert.match(res.headers.get('content-type'), /^application\/json/);
      assert.deepEqual(Object.keys(res.body).sort(), ['token', 'user']);
      const { user, token } = res.body;
      assertUser(user, { name: 'Ada Lovelace', email: email.toLowerCase() });
      assert.equal(user.avatar, null);
      assert.equal(user.lastSeen, null);
      const created = Date.parse(user.createdAt);
      assert.ok(created >= before - 2000 && created <= Date.now() + 2000, `createdAt ${user.createdAt} is now`);
      const idSeconds = parseInt(user._id.slice(0, 8), 16);
      assert.ok(Math.abs(idSeconds - before / 1000) < 120, 'the id starts with the creation time in seconds');
      assertToken(token, user._id);
      assertAuthCookie(res);
      assertSecurityHeaders(res.headers);
      assert.ok(!res.text.includes('correct horse battery'), 'password echoed');
      assert.ok(!res.text.includes('$2b$'), 'hash leaked');
    });

    test('ids of successive users are distinct and increasing', async () => {
      const ids = [];
      for (let i = 0; i < 5; i += 1) ids.push((await newUser(srv.url)).user._id);
      for (let i = 1; i < ids.length; i += 1) assert.ok(ids[i - 1] < ids[i], `${ids[i - 1]} < ${ids[i]}`);
    });

    test('the name is trimmed; 64 code points (emoji) are accepted', async () => {
      let res = await register(srv.url, { name: '   Grace Hopper  ', email: uniqueEmail() });
      assert.equal(res.status, 201, res.text);
      assert.equal(res.body.user.name, 'Grace Hopper');
      const emoji = '😀'.repeat(64);
      res = await register(srv.url, { name: emoji, email: uniqueEmail() });
      assert.equal(res.status, 201, res.text);
      assert.equal(res.body.user.name, emoji);
      res = await register(srv.url, { name: 'a'.repeat(64), email: uniqueEmail() });
      assert.equal(res.status, 201, res.text);
      res = await register(srv.url, { name: 'é', email: uniqueEmail() });
      assert.equal(res.status, 201, res.text);
    });

    test('bad names are 400 validation_failed with fields.name', async () => {
      for (const name of ['', '   ', '\t\n ', 'a'.repeat(65), '😀'.repeat(65), ` ${'b'.repeat(65)} `]) {
        const res = await register(srv.url, { name, email: uniqueEmail() });
        assertValidation(res, ['name'], { exact: true });
        assertSecurityHeaders(res.headers);
      }
    });

    test('bad emails are 400 with fields.email', async () => {
      for (const email of ['', 'plainaddress', 'no-at-sign.example.com', 'a@', '@example.com', 'a b@example.com', 'two@@example.com']) {
        const res = await register(srv.url, { name: 'Bad Email', email });
        assertValidation(res, ['email'], { exact: true });
      }
    });

    test('password length counts UTF-8 bytes: 8..72 accepted, 7 and 73 refused', async () => {
      for (const password of ['1234567', 'a'.repeat(73), 'é'.repeat(37), 'abc\u0000defghij', '']) {
        const bad = await register(srv.url, { name: 'Pw', email: uniqueEmail(), password });
        assertValidation(bad, ['password'], { exact: true });
      }
      for (const password of ['12345678', 'a'.repeat(72), 'é'.repeat(36), 'éééé']) {
        const email = uniqueEmail();
        const res = await register(srv.url, { name: 'Pw', email, password });
        assert.equal(res.status, 201, `${JSON.stringify(password)}: ${res.text}`);
        const li = await login(srv.url, { email, password });
        assert.equal(li.status, 200, li.text);
        // bcrypt must not silently truncate a 72-byte password's neighbours into a match.
        if (password.length === 72) {
          const wrong = await login(srv.url, { email, password: `${'a'.repeat(71)}b` });
          assertError(wrong, 401, 'invalid_credentials');
        }
      }
    });

    test('missing and mistyped fields are named in fields', async () => {
      let res = await request(srv.url, '/api/auth/register', { method: 'POST', body: {} });
      assertValidation(res, ['name', 'email', 'password'], { exact: true });
      res = await register(srv.url, { name: '', email: 'nope', password: 'short' });
      assertValidation(res, ['name', 'email', 'password'], { exact: true });
      res = await request(srv.url, '/api/auth/register', { method: 'POST', body: { name: 42, email: uniqueEmail(), password: 'correct horse battery' } });
      assertValidation(res, ['name'], { exact: true });
      res = await request(srv.url, '/api/auth/register', { method: 'POST', body: { name: 'X', email: ['a@b.co'], password: 'correct horse battery' } });
      assertValidation(res, ['email'], { exact: true });
      res = await request(srv.url, '/api/auth/register', { method: 'POST', body: { name: 'X', email: uniqueEmail(), password: 12345678 } });
      assertValidation(res, ['password'], { exact: true });
    });

    test('a JSON body that is not an object is 400 validation_failed with fields.body', async () => {
      for (const body of ['[]', '"text"', '42', 'null']) {
        const res = await request(srv.url, '/api/auth/register', { method: 'POST', body });
        assertValidation(res, ['body'], { exact: true });
      }
    });

    test('lengths count decoded text: JSON escapes and surrogate pairs', async () => {
      const raw = (name, password) => `{"name":"${name}","email":"${uniqueEmail()}","password":"${password}"}`;
      // 64 emoji written as escaped surrogate pairs: 64 code points.
      let res = await request(srv.url, '/api/auth/register', { method: 'POST', body: raw('\\ud83d\\ude00'.repeat(64), 'correct horse battery') });
      assert.equal(res.status, 201, res.text);
      assert.equal(res.body.user.name, '😀'.repeat(64));
      res = await request(srv.url, '/api/auth/register', { method: 'POST', body: raw('\\ud83d\\ude00'.repeat(65), 'correct horse battery') });
      assertValidation(res, ['name'], { exact: true });
      // 37 escaped e-acute: 37 code points but 74 UTF-8 bytes.
      res = await request(srv.url, '/api/auth/register', { method: 'POST', body: raw('Escaped', '\\u00e9'.repeat(37)) });
      assertValidation(res, ['password'], { exact: true });
      res = await request(srv.url, '/api/auth/register', { method: 'POST', body: raw('Escaped', 'abcdefgh\\u0000') });
      assertValidation(res, ['password'], { exact: true });
    });

    test('invalid UTF-8 or a lone surrogate is 400 invalid_json, in valid UTF-8', async () => {
      const bodies = {
        'bytes ff fe': Buffer.concat([Buffer.from(`{"name":"Bad `), Buffer.from([0xff, 0xfe]), Buffer.from(`","email":"${uniqueEmail()}","password":"correct horse battery"}`)]),
        'a truncated sequence': Buffer.concat([Buffer.from(`{"name":"Bad `), Buffer.from([0xc3]), Buffer.from(`","email":"${uniqueEmail()}","password":"correct horse battery"}`)]),
        'a lone high surrogate': Buffer.from(`{"name":"Lone \\ud800 surrogate","email":"${uniqueEmail()}","password":"correct horse battery"}`),
        'a lone low surrogate': Buffer.from(`{"name":"Lone \\udc00 surrogate","email":"${uniqueEmail()}","password":"correct horse battery"}`),
      };
      for (const [what, body] of Object.entries(bodies)) {
        const res = await fetch(`${srv.url}/api/auth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        const bytes = Buffer.from(await res.arrayBuffer());
        const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
        assert.equal(res.status, 400, `${what}: ${text}`);
        assert.equal(JSON.parse(text).error, 'invalid_json', `${what}: ${text}`);
      }
      // A surrogate pair is one character.
      const res = await request(srv.url, '/api/auth/register', {
        method: 'POST', body: `{"name":"Pair \\ud83d\\ude00","email":"${uniqueEmail()}","password":"correct horse battery"}`,
      });
      assert.equal(res.status, 201, res.text);
      assert.equal(res.body.user.name, 'Pair 😀');
      const me = await request(srv.url, '/api/auth/me', { token: res.body.token });
      assert.equal(me.status, 200, me.text);
      assert.equal(me.body.name, 'Pair 😀');
    });

    test('deeply nested JSON is 400 invalid_json without harming the server', async () => {
      for (const body of ['['.repeat(50000) + ']'.repeat(50000), '{"a":'.repeat(15000) + '1' + '}'.repeat(15000)]) {
        const res = await request(srv.url, '/api/auth/register', { method: 'POST', body });
        assertError(res, 400, 'invalid_json');
      }
      assert.equal((await request(srv.url, '/api/health')).status, 200);
    });

    test('50 concurrent registrations of distinct emails all succeed', async () => {
      const results = await Promise.all(Array.from({ length: 50 }, (_, i) => register(srv.url, { name: `Crowd ${i}`, email: uniqueEmail('crowd') })));
      assert.deepEqual(results.map((r) => r.status), Array(50).fill(201));
      const ids = new Set(results.map((r) => r.body.user._id));
      assert.equal(ids.size, 50, 'distinct ids');
    });

    test('a duplicate email is 409 conflict, also when it differs in case', async () => {
      const email = uniqueEmail('dup');
      assert.equal((await register(srv.url, { email })).status, 201);
      assertError(await register(srv.url, { email, name: 'Other' }), 409, 'conflict');
      assertError(await register(srv.url, { email: email.toUpperCase(), name: 'Other' }), 409, 'conflict');
      const mixed = email.replace(/^d/, 'D');
      assertError(await register(srv.url, { email: mixed }), 409, 'conflict');
    });

    test('20 concurrent registrations of one email: exactly one 201, nineteen 409', async () => {
      const email = uniqueEmail('race');
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => register(srv.url, { name: `Racer ${i}`, email })));
      const statuses = results.map((r) => r.status);
      assert.equal(statuses.filter((s) => s === 201).length, 1, `statuses: ${statuses}`);
      assert.equal(statuses.filter((s) => s === 409).length, 19, `statuses: ${statuses}`);
      for (const r of results.filter((x) => x.status === 409)) assertError(r, 409, 'conflict');
      const winner = results.find((r) => r.status === 201);
      const li = await login(srv.url, { email, password: 'correct horse battery' });
      assert.equal(li.status, 200);
      assert.equal(li.body.user._id, winner.body.user._id);
    });
  });

  describe('login', () => {
    test('200 {user, token} + cookie; email is case-insensitive', async () => {
      const u = await newUser(srv.url, { name: 'Login Person' });
      const res = await login(srv.url, { email: u.email, password: u.password });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(Object.keys(res.body).sort(), ['token', 'user']);
      assertUser(res.body.user, { name: 'Login Person', email: u.email });
      assert.deepEqual(res.body.user, u.user);
      assertToken(res.body.token, u.user._id);
      assertAuthCookie(res);
      assertSecurityHeaders(res.headers);
      assert.notEqual(decodeJwt(res.body.token).payload.jti, decodeJwt(u.token).payload.jti, 'each token has its own jti');
      const upper = await login(srv.url, { email: u.email.toUpperCase(), password: u.password });
      assert.equal(upper.status, 200, upper.text);
      assert.equal(upper.body.user._id, u.user._id);
    });

    test('wrong password and unknown email give the same 401 invalid_credentials', async () => {
      const u = await newUser(srv.url);
      const wrong = await login(srv.url, { email: u.email, password: 'not the password' });
      const unknown = await login(srv.url, { email: uniqueEmail('nobody'), password: 'not the password' });
      assertError(wrong, 401, 'invalid_credentials');
      assertError(unknown, 401, 'invalid_credentials');
      assert.deepEqual(wrong.body, unknown.body);
      assert.equal(wrong.cookies.length, 0, 'no cookie on a failed login');
      assertSecurityHeaders(wrong.headers);
    });

    test('a password differing only in case is refused', async () => {
      const u = await newUser(srv.url, { password: 'CaseSensitive123' });
      assertError(await login(srv.url, { email: u.email, password: 'casesensitive123' }), 401, 'invalid_credentials');
    });

    test('a login without a password is 400 validation_failed with fields.password', async () => {
      const res = await request(srv.url, '/api/auth/login', { method: 'POST', body: { email: uniqueEmail() } });
      assertValidation(res, ['password'], { exact: true });
      const neither = await request(srv.url, '/api/auth/login', { method: 'POST', body: {} });
      assertValidation(neither, ['email', 'password'], { exact: true });
    });
  });

  describe('me', () => {
    test('with a Bearer header: 200 User', async () => {
      const u = await newUser(srv.url, { name: 'Me Header' });
      const res = await request(srv.url, '/api/auth/me', { token: u.token });
      assert.equal(res.status, 200, res.text);
      assertUser(res.body, { name: 'Me Header', email: u.email });
      assert.deepEqual(res.body, u.user);
      assertSecurityHeaders(res.headers);
    });

    test('with the cookie: 200', async () => {
      const u = await newUser(srv.url);
      const res = await request(srv.url, '/api/auth/me', { cookie: `token=${u.token}` });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body._id, u.user._id);
      const withOthers = await request(srv.url, '/api/auth/me', { cookie: `a=b; token=${u.token}; c=d` });
      assert.equal(withOthers.status, 200, withOthers.text);
      assert.equal(withOthers.body._id, u.user._id);
    });

    test('the Bearer header wins over the cookie', async () => {
      const a = await newUser(srv.url, { name: 'Header User' });
      const b = await newUser(srv.url, { name: 'Cookie User' });
      const res = await request(srv.url, '/api/auth/me', { token: a.token, cookie: `token=${b.token}` });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body._id, a.user._id);
    });

    test('a malformed Bearer header is 401 even with a valid cookie', async () => {
      const u = await newUser(srv.url);
      for (const auth of ['Bearer garbage', 'Bearer a.b.c', 'Bearer not a token', `Bearer ${u.token}x`]) {
        const res = await request(srv.url, '/api/auth/me', { headers: { authorization: auth }, cookie: `token=${u.token}` });
        assertError(res, 401, 'unauthorized');
        assertSecurityHeaders(res.headers);
      }
    });

    test('an Authorization header of another scheme is ignored: the cookie works', async () => {
      const u = await newUser(srv.url);
      const res = await request(srv.url, '/api/auth/me', { headers: { authorization: 'Basic dXNlcjpwYXNzd29yZA==' }, cookie: `token=${u.token}` });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body._id, u.user._id);
      const none = await request(srv.url, '/api/auth/me', { headers: { authorization: 'Basic dXNlcjpwYXNzd29yZA==' } });
      assertError(none, 401, 'unauthorized');
    });

    test('no token: 401 unauthorized', async () => {
      assertError(await request(srv.url, '/api/auth/me'), 401, 'unauthorized');
      assertError(await request(srv.url, '/api/auth/me', { cookie: 'token=' }), 401, 'unauthorized');
      assertError(await request(srv.url, '/api/auth/me', { cookie: 'other=abc' }), 401, 'unauthorized');
    });

    test('a token signed with JWT_SECRET is accepted (control for the forgeries below)', async () => {
      const u = await newUser(srv.url);
      const now = Math.floor(Date.now() / 1000);
      const t = signJwt({ alg: 'HS256', typ: 'JWT' }, { sub: u.user._id, iat: now, exp: now + 600, jti: 'control-jti-1' });
      const res = await request(srv.url, '/api/auth/me', { token: t });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body._id, u.user._id);
    });

    test('forged, tampered and foreign tokens are 401', async () => {
      const u = await newUser(srv.url);
      const { payload } = decodeJwt(u.token);
      const now = Math.floor(Date.now() / 1000);
      const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
      const [h, p, s] = u.token.split('.');
      const flipped = s[0] === 'A' ? `B${s.slice(1)}` : `A${s.slice(1)}`;
      const otherPayload = b64({ ...payload, sub: '0'.repeat(24) });
      const forged = {
        'alg none': `${b64({ alg: 'none', typ: 'JWT' })}.${p}.`,
        'alg None': `${b64({ alg: 'None', typ: 'JWT' })}.${p}.`,
        'alg none with the old signature': `${b64({ alg: 'none', typ: 'JWT' })}.${p}.${s}`,
        'tampered signature': `${h}.${p}.${flipped}`,
        'tampered payload': `${h}.${otherPayload}.${s}`,
        'truncated': `${h}.${p}`,
        'wrong secret': signJwt({ alg: 'HS256', typ: 'JWT' }, payload, 'another-secret-0123456789abcdef0123'),
        'HS512 with the secret': signJwt({ alg: 'HS512', typ: 'JWT' }, payload, TEST_SECRET, 'sha512'),
        'HS384 with the secret': signJwt({ alg: 'HS384', typ: 'JWT' }, payload, TEST_SECRET, 'sha384'),
        'expired': signJwt({ alg: 'HS256', typ: 'JWT' }, { sub: u.user._id, iat: now - 7200, exp: now - 3600, jti: 'expired-jti' }),
        'no sub': signJwt({ alg: 'HS256', typ: 'JWT' }, { iat: now, exp: now + 600, jti: 'nosub-jti' }),
        'no exp': signJwt({ alg: 'HS256', typ: 'JWT' }, { sub: u.user._id, iat: now, jti: 'noexp-jti' }),
        'user that does not exist': signJwt({ alg: 'HS256', typ: 'JWT' }, { sub: 'ffffffffffffffffffffffff', iat: now, exp: now + 600, jti: 'ghost-jti' }),
        'sub not an id': signJwt({ alg: 'HS256', typ: 'JWT' }, { sub: "x' OR 1=1 --", iat: now, exp: now + 600, jti: 'sqli-jti' }),
      };
      for (const [what, t] of Object.entries(forged)) {
        const viaHeader = await request(srv.url, '/api/auth/me', { token: t });
        assert.equal(viaHeader.status, 401, `${what} (header): ${viaHeader.text}`);
        assertError(viaHeader, 401, 'unauthorized');
        const viaCookie = await request(srv.url, '/api/auth/me', { cookie: `token=${t}` });
        assert.equal(viaCookie.status, 401, `${what} (cookie): ${viaCookie.text}`);
      }
      // The genuine token still works.
      assert.equal((await request(srv.url, '/api/auth/me', { token: u.token })).status, 200);
    });
  });

  describe('logout', () => {
    test('200 {"message":"Logged out"}, clears the cookie, revokes only that token', async () => {
      const u = await newUser(srv.url);
      const second = await login(srv.url, { email: u.email, password: u.password });
      assert.equal(second.status, 200);
      const res = await request(srv.url, '/api/auth/logout', { method: 'POST', token: u.token });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.body, { message: 'Logged out' });
      assertSecurityHeaders(res.headers);
      const c = authCookie(res);
      assert.equal(c.value, '', 'the cleared cookie is empty');
      assert.equal(c.attrs['max-age'], '0', 'Max-Age=0');
      assert.equal(c.attrs.path, '/', 'Path=/ so the browser drops the right cookie');
      assertError(await request(srv.url, '/api/auth/me', { token: u.token }), 401, 'unauthorized');
      assertError(await request(srv.url, '/api/auth/me', { cookie: `token=${u.token}` }), 401, 'unauthorized');
      const other = await request(srv.url, '/api/auth/me', { token: second.body.token });
      assert.equal(other.status, 200, 'a second token of the same user stays valid');
    });

    test('logout with the cookie revokes the cookie token', async () => {
      const u = await newUser(srv.url);
      const res = await request(srv.url, '/api/auth/logout', { method: 'POST', cookie: `token=${u.token}` });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.body, { message: 'Logged out' });
      assertError(await request(srv.url, '/api/auth/me', { token: u.token }), 401, 'unauthorized');
    });

    test('logout without a token is 200 and clears the cookie', async () => {
      const res = await request(srv.url, '/api/auth/logout', { method: 'POST' });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.body, { message: 'Logged out' });
      const c = authCookie(res);
      assert.equal(c.attrs['max-age'], '0');
    });

    test('logging in again after logout gives a working token', async () => {
      const u = await newUser(srv.url);
      assert.equal((await request(srv.url, '/api/auth/logout', { method: 'POST', token: u.token })).status, 200);
      const li = await login(srv.url, u);
      assert.equal(li.status, 200);
      assert.equal((await request(srv.url, '/api/auth/me', { token: li.body.token })).status, 200);
    });
  });
});

describe('auth across a restart', () => {
  let srv;
  after(async () => { if (srv) assert.equal(await srv.stop(), 0); });

  test('a revoked token stays revoked and the rest persists after a restart on the same database', async () => {
    srv = await startServer({ env: { RATE_LIMIT_DISABLED: '1' } });
    const u = await newUser(srv.url, { name: 'Persistent' });
    const kept = await login(srv.url, u);
    assert.equal((await request(srv.url, '/api/auth/logout', { method: 'POST', token: u.token })).status, 200);
    assertError(await request(srv.url, '/api/auth/me', { token: u.token }), 401, 'unauthorized');
    assert.equal(await srv.stop(), 0, 'SIGTERM exits 0');
    const dir = srv.dir;
    srv = await srv.restart();
    assert.equal(srv.dir, dir);
    assertError(await request(srv.url, '/api/auth/me', { token: u.token }), 401, 'unauthorized');
    assertError(await request(srv.url, '/api/auth/me', { cookie: `token=${u.token}` }), 401, 'unauthorized');
    const me = await request(srv.url, '/api/auth/me', { token: kept.body.token });
    assert.equal(me.status, 200, me.text);
    assert.deepEqual(me.body, u.user);
    const li = await login(srv.url, u);
    assert.equal(li.status, 200, li.text);
    assertError(await register(srv.url, { email: u.email }), 409, 'conflict');
    assert.ok(fs.existsSync(path.join(dir, 'parley.db')), 'the database is the file named by DATABASE_URL');
  });
});

describe('cookie settings', () => {
  let srv;
  before(async () => {
    srv = await startServer({ env: { RATE_LIMIT_DISABLED: '1', COOKIE_SECURE: 'true', COOKIE_NAME: 'sid', JWT_EXPIRES_IN: '12h' } });
  });
  after(async () => { if (srv) assert.equal(await srv.stop(), 0); });

  test('COOKIE_SECURE, COOKIE_NAME and JWT_EXPIRES_IN shape the cookie and token', async () => {
    const email = uniqueEmail();
    const res = await register(srv.url, { email });
    assert.equal(res.status, 201, res.text);
    assertAuthCookie(res, { name: 'sid', maxAge: 12 * 3600, secure: true });
    assertToken(res.body.token, res.body.user._id, 12 * 3600);
    assert.ok(!res.cookies.some((c) => c.startsWith('token=')), 'no cookie under the default name');
    assertSecurityHeaders(res.headers, { hsts: true });
    const li = await login(srv.url, { email, password: 'correct horse battery' });
    assertAuthCookie(li, { name: 'sid', maxAge: 12 * 3600, secure: true });
  });

  test('HSTS is on error responses too', async () => {
    assertSecurityHeaders((await request(srv.url, '/api/nope')).headers, { hsts: true });
    assertSecurityHeaders((await request(srv.url, '/api/auth/me')).headers, { hsts: true });
    assertSecurityHeaders((await request(srv.url, '/api/auth/register', { method: 'POST', body: '{' })).headers, { hsts: true });
  });

  test('the cookie named COOKIE_NAME authenticates; "token" does not', async () => {
    const u = await newUser(srv.url);
    const ok = await request(srv.url, '/api/auth/me', { cookie: `sid=${u.token}` });
    assert.equal(ok.status, 200, ok.text);
    assertSecurityHeaders(ok.headers, { hsts: true });
    assertError(await request(srv.url, '/api/auth/me', { cookie: `token=${u.token}` }), 401, 'unauthorized');
    const out = await request(srv.url, '/api/auth/logout', { method: 'POST', cookie: `sid=${u.token}` });
    assert.equal(out.status, 200);
    const c = authCookie(out, 'sid');
    assert.equal(c.attrs['max-age'], '0');
    assertError(await request(srv.url, '/api/auth/me', { cookie: `sid=${u.token}` }), 401, 'unauthorized');
  });
});

describe('token expiry', () => {
  let srv;
  before(async () => { srv = await startServer({ env: { RATE_LIMIT_DISABLED: '1', JWT_EXPIRES_IN: '3s' } }); });
  after(async () => { if (srv) assert.equal(await srv.stop(), 0); });

  test('a token is refused once exp has passed', async () => {
    const u = await newUser(srv.url);
    assertToken(u.token, u.user._id, 3);
    assertAuthCookie(u.res, { maxAge: 3 });
    const first = await request(srv.url, '/api/auth/me', { token: u.token });
    assert.equal(first.status, 200, first.text);
    const { exp } = decodeJwt(u.token).payload;
    const res = await waitFor(async () => {
      const sent = Date.now();
      const r = await request(srv.url, '/api/auth/me', { token: u.token });
      if (r.status === 200) {
        // The server checked after `sent`: accepting means its clock was still before exp.
        assert.ok(sent / 1000 < exp, `token accepted in a request sent ${sent / 1000 - exp} s after exp`);
        return null;
      }
      return r;
    }, { timeoutMs: 15_000, intervalMs: 200, what: 'the token to expire' });
    assertError(res, 401, 'unauthorized');
    assertError(await request(srv.url, '/api/auth/me', { cookie: `token=${u.token}` }), 401, 'unauthorized');
  });

  test('logout with an expired token is still 200', async () => {
    const u = await newUser(srv.url);
    await waitFor(async () => (await request(srv.url, '/api/auth/me', { token: u.token })).status === 401,
      { timeoutMs: 15_000, intervalMs: 200, what: 'the token to expire' });
    const res = await request(srv.url, '/api/auth/logout', { method: 'POST', token: u.token });
    assert.equal(res.status, 200, res.text);
  });
});

describe('login timing', () => {
  let srv;
  before(async () => { srv = await startServer({ env: { RATE_LIMIT_DISABLED: '1', BCRYPT_ROUNDS: '10' } }); });
  after(async () => { if (srv) assert.equal(await srv.stop(), 0); });

  test('an unknown email costs about as much as a wrong password', async () => {
    const u = await newUser(srv.url);
    const hash = (await login(srv.url, u)).status;
    assert.equal(hash, 200);
    const time = async (creds) => {
      const t0 = process.hrtime.bigint();
      const r = await login(srv.url, creds);
      assert.equal(r.status, 401);
      return Number(process.hrtime.bigint() - t0) / 1e6;
    };
    const wrong = [];
    const unknown = [];
    for (let i = 0; i < 6; i += 1) {
      wrong.push(await time({ email: u.email, password: 'wrong password!' }));
      unknown.push(await time({ email: uniqueEmail('ghost'), password: 'wrong password!' }));
    }
    const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const mw = median(wrong);
    const mu = median(unknown);
    assert.ok(mw > 5, `a cost-10 bcrypt check should take measurable time, took ${mw} ms`);
    assert.ok(mu > mw * 0.5, `unknown email ${mu.toFixed(1)} ms vs wrong password ${mw.toFixed(1)} ms`);
  });
});
