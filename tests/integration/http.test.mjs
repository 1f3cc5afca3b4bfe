// HTTP behaviour shared by every route: 404/405/413/415/400 JSON errors,
// security headers, CORS, keep-alive, pipelining, timeouts, rate limiting.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, request, register, login, newUser, uniqueEmail, connectRaw, rawRequest, CLOCK_SLACK_MS,
} from './lib/server.mjs';
import { assertError, assertSecurityHeaders, assertListHeader } from './lib/checks.mjs';

const ALLOWED = 'http://allowed.example';
const ALLOWED_2 = 'http://second.example:3000';
const FOREIGN = 'http://evil.example';
const BODY_LIMIT = 1024;

function registerBody(size) {
  // A valid registration body of exactly `size` bytes, padded with an ignored field.
  const base = { name: 'Padded', email: uniqueEmail('pad'), password: 'correct horse battery', pad: '' };
  const overhead = Buffer.byteLength(JSON.stringify(base));
  assert.ok(size >= overhead);
  base.pad = 'p'.repeat(size - overhead);
  const s = JSON.stringify(base);
  assert.equal(Buffer.byteLength(s), size);
  return s;
}

describe('http', () => {
  let srv;
  before(async () => {
    srv = await startServer({
      env: { RATE_LIMIT_DISABLED: '1', BODY_LIMIT_BYTES: String(BODY_LIMIT), CLIENT_URL: `${ALLOWED},${ALLOWED_2}` },
    });
  });
  after(async () => { if (srv) assert.equal(await srv.stop(), 0); });

  describe('errors', () => {
    test('unknown routes are 404 not_found in JSON', async () => {
      for (const [method, p] of [
        ['GET', '/api/nope'], ['GET', '/nope'], ['GET', '/api'], ['GET', '/api/auth'],
        ['GET', '/api/auth/me/extra'], ['DELETE', '/api/nothing'], ['GET', '/api/healthz'],
      ]) {
        const res = await request(srv.url, p, { method });
        assertError(res, 404, 'not_found');
        assertSecurityHeaders(res.headers);
      }
      const post = await request(srv.url, '/api/nope', { method: 'POST', body: { a: 1 } });
      assertError(post, 404, 'not_found');
    });

    test('a wrong method on a known route is 405 with Allow', async () => {
      for (const [method, p, allow] of [
        ['GET', '/api/auth/register', 'POST'],
        ['GET', '/api/auth/login', 'POST'],
        ['GET', '/api/auth/logout', 'POST'],
        ['PUT', '/api/auth/register', 'POST'],
        ['POST', '/api/auth/me', 'GET'],
        ['DELETE', '/api/users', 'GET'],
        ['POST', '/api/users', 'GET'],
        ['PATCH', '/api/health', 'GET'],
        ['POST', '/metrics', 'GET'],
      ]) {
        const res = await request(srv.url, p, { method });
        assertError(res, 405, 'method_not_allowed');
        assertListHeader(res.headers.get('allow'), [allow], `Allow on ${method} ${p}`);
        assert.ok(!res.headers.get('allow').toUpperCase().split(',').map((s) => s.trim()).includes(method), `Allow must not list ${method}`);
        assertSecurityHeaders(res.headers);
      }
    });

    test('a POST body that is not application/json is 415', async () => {
      const json = JSON.stringify({ name: 'X', email: uniqueEmail(), password: 'correct horse battery' });
      for (const ct of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/jsonx']) {
        const res = await request(srv.url, '/api/auth/register', { method: 'POST', body: json, contentType: ct });
        assertError(res, 415, 'unsupported_media_type');
        assertSecurityHeaders(res.headers);
      }
      const loginRes = await request(srv.url, '/api/auth/login', { method: 'POST', body: '{"email":"a@b.co","password":"12345678"}', contentType: 'text/plain' });
      assertError(loginRes, 415, 'unsupported_media_type');
      // A body with no Content-Type at all.
      const conn = await connectRaw(srv.port);
      try {
        await conn.write(rawRequest('POST', '/api/auth/register', { body: json }));
        const raw = await conn.readResponse();
        assertError(raw, 415, 'unsupported_media_type');
      } finally { conn.destroy(); }
    });

    test('application/json with parameters or in another case is accepted', async () => {
      for (const ct of ['application/json; charset=utf-8', 'application/json;charset=UTF-8', 'Application/JSON']) {
        const res = await request(srv.url, '/api/auth/register', {
          method: 'POST', body: JSON.stringify({ name: 'Ct', email: uniqueEmail(), password: 'correct horse battery' }), contentType: ct,
        });
        assert.equal(res.status, 201, `${ct}: ${res.text}`);
      }
    });

    test('an empty POST without Content-Type is not a 415 (logout)', async () => {
      const conn = await connectRaw(srv.port);
      try {
        await conn.write(rawRequest('POST', '/api/auth/logout', { headers: { 'Content-Length': '0' } }));
        const res = await conn.readResponse();
        assert.equal(res.status, 200, res.text);
        assert.deepEqual(res.body, { message: 'Logged out' });
      } finally { conn.destroy(); }
    });

    test('invalid JSON is 400 invalid_json', async () => {
      for (const body of ['{"name":', "{'name':'x'}", '{"a":1}garbage', '{"a":1,}', 'nope', '{"a":01}']) {
        const res = await request(srv.url, '/api/auth/register', { method: 'POST', body });
        assertError(res, 400, 'invalid_json');
        assertSecurityHeaders(res.headers);
      }
      const res = await request(srv.url, '/api/auth/login', { method: 'POST', body: '{"email": "a@b.co", ' });
      assertError(res, 400, 'invalid_json');
    });

    test('a body over BODY_LIMIT_BYTES is 413; exactly the limit is accepted', async () => {
      // Content-Length over the limit, body sent.
      let conn = await connectRaw(srv.port);
      try {
        await conn.write(rawRequest('POST', '/api/auth/register', { headers: { 'Content-Type': 'application/json' }, body: registerBody(BODY_LIMIT + 1) }));
        const res = await conn.readResponse();
        assertError(res, 413, 'payload_too_large');
        assertSecurityHeaders(res.headers);
      } finally { conn.destroy(); }

      // A huge Content-Length is refused without waiting for the body.
      conn = await connectRaw(srv.port);
      try {
        await conn.write(rawRequest('POST', '/api/auth/register', { headers: { 'Content-Type': 'application/json', 'Content-Length': String(50 * 1024 * 1024) } }));
        await conn.write('{"name":"');
        const res = await conn.readResponse(5000);
        assertError(res, 413, 'payload_too_large');
      } finally { conn.destroy(); }

      // Chunked, over the limit.
      conn = await connectRaw(srv.port);
      try {
        const body = registerBody(BODY_LIMIT * 2);
        const half = body.length / 2;
        const chunked = `${half.toString(16)}\r\n${body.slice(0, half)}\r\n${half.toString(16)}\r\n${body.slice(half)}\r\n0\r\n\r\n`;
        await conn.write(rawRequest('POST', '/api/auth/register', { headers: { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' }, body: chunked }));
        const res = await conn.readResponse();
        assertError(res, 413, 'payload_too_large');
      } finally { conn.destroy(); }

      // Exactly at the limit: a normal registration.
      const exact = await request(srv.url, '/api/auth/register', { method: 'POST', body: registerBody(BODY_LIMIT) });
      assert.equal(exact.status, 201, exact.text);

      // The server is still fine afterwards.
      assert.equal((await request(srv.url, '/api/health')).status, 200);
    });
  });

  describe('security headers', () => {
    test('on every response, errors included, and no HSTS without COOKIE_SECURE', async () => {
      const u = await newUser(srv.url);
      const responses = [
        await request(srv.url, '/api/health'),
        await request(srv.url, '/metrics'),
        await register(srv.url, {}),
        await login(srv.url, u),
        await request(srv.url, '/api/auth/me', { token: u.token }),
        await request(srv.url, '/api/auth/me'),
        await request(srv.url, '/api/users', { token: u.token }),
        await request(srv.url, '/api/users?limit=0', { token: u.token }),
        await request(srv.url, '/api/nope'),
        await request(srv.url, '/api/users', { method: 'DELETE' }),
        await request(srv.url, '/api/auth/register', { method: 'POST', body: 'x', contentType: 'text/plain' }),
        await request(srv.url, '/api/auth/register', { method: 'POST', body: '{' }),
        await register(srv.url, { email: u.email }),
        await login(srv.url, { email: u.email, password: 'wrong password' }),
        await request(srv.url, '/api/auth/login', { method: 'OPTIONS', headers: { origin: ALLOWED, 'access-control-request-method': 'POST' } }),
        await request(srv.url, '/api/auth/logout', { method: 'POST', token: u.token }),
      ];
      for (const res of responses) {
        assertSecurityHeaders(res.headers);
        assert.equal(res.headers.get('x-powered-by'), null);
      }
    });
  });

  describe('CORS', () => {
    test('an allowed origin is echoed with credentials', async () => {
      for (const origin of [ALLOWED, ALLOWED_2]) {
        const res = await request(srv.url, '/api/health', { headers: { origin } });
        assert.equal(res.status, 200);
        assert.equal(res.headers.get('access-control-allow-origin'), origin);
        assert.equal(res.headers.get('access-control-allow-credentials'), 'true');
        assertListHeader(res.headers.get('vary'), ['Origin'], 'Vary');
      }
    });

    test('error responses carry the CORS headers for an allowed origin', async () => {
      const res = await request(srv.url, '/api/auth/me', { headers: { origin: ALLOWED } });
      assertError(res, 401, 'unauthorized');
      assert.equal(res.headers.get('access-control-allow-origin'), ALLOWED);
      assert.equal(res.headers.get('access-control-allow-credentials'), 'true');
      const r2 = await login(srv.url, { email: uniqueEmail(), password: 'whatever12' }, { headers: { origin: ALLOWED } });
      assertError(r2, 401, 'invalid_credentials');
      assert.equal(r2.headers.get('access-control-allow-origin'), ALLOWED);
    });

    test('a preflight from an allowed origin is 204 with the CORS headers', async () => {
      const res = await request(srv.url, '/api/auth/login', {
        method: 'OPTIONS',
        headers: { origin: ALLOWED, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,authorization' },
      });
      assert.equal(res.status, 204, res.text);
      assert.equal(res.headers.get('access-control-allow-origin'), ALLOWED);
      assert.equal(res.headers.get('access-control-allow-credentials'), 'true');
      assertListHeader(res.headers.get('access-control-allow-methods'), ['POST'], 'Access-Control-Allow-Methods');
      assertListHeader(res.headers.get('access-control-allow-headers'), ['content-type', 'authorization'], 'Access-Control-Allow-Headers');
      assertSecurityHeaders(res.headers);
      const me = await request(srv.url, '/api/users', {
        method: 'OPTIONS',
        headers: { origin: ALLOWED_2, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
      });
      assert.equal(me.status, 204);
      assert.equal(me.headers.get('access-control-allow-origin'), ALLOWED_2);
    });

    test('a foreign origin gets no CORS headers', async () => {
      for (const origin of [FOREIGN, `${ALLOWED}.evil.example`, 'http://allowed.example:8080', 'null']) {
        const res = await request(srv.url, '/api/health', { headers: { origin } });
        assert.equal(res.status, 200);
        assert.equal(res.headers.get('access-control-allow-origin'), null, `${origin} must not be allowed`);
        assert.equal(res.headers.get('access-control-allow-credentials'), null);
        const pre = await request(srv.url, '/api/auth/login', {
          method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
        });
        assert.equal(pre.headers.get('access-control-allow-origin'), null, `${origin} preflight`);
        assert.equal(pre.headers.get('access-control-allow-credentials'), null);
        assert.equal(pre.headers.get('access-control-allow-methods'), null);
        assertSecurityHeaders(pre.headers);
      }
    });

    test('no Origin, no CORS headers', async () => {
      const res = await request(srv.url, '/api/health');
      assert.equal(res.headers.get('access-control-allow-origin'), null);
    });
  });

  describe('connections', () => {
    test('keep-alive: two requests on one connection', async () => {
      const conn = await connectRaw(srv.port);
      try {
        await conn.write(rawRequest('GET', '/api/health'));
        const a = await conn.readResponse();
        assert.equal(a.status, 200);
        assert.equal(a.body.status, 'ok');
        assert.equal(conn.closed, false, 'HTTP/1.1 keeps the connection open');
        await conn.write(rawRequest('GET', '/api/nope'));
        const b = await conn.readResponse();
        assertError(b, 404, 'not_found');
        await conn.write(rawRequest('GET', '/api/health'));
        assert.equal((await conn.readResponse()).status, 200);
      } finally { conn.destroy(); }
    });

    test('pipelined requests are answered in order', async () => {
      const conn = await connectRaw(srv.port);
      try {
        const reqs = Buffer.concat([
          rawRequest('GET', '/api/health'),
          rawRequest('GET', '/api/nope'),
          rawRequest('POST', '/api/auth/login', { headers: { 'Content-Type': 'application/json' }, body: '{"email":"x@y.co",' }),
          rawRequest('GET', '/api/auth/me'),
          rawRequest('GET', '/api/health', { headers: { Connection: 'close' } }),
        ]);
        await conn.write(reqs);
        const got = [];
        for (let i = 0; i < 5; i += 1) got.push(await conn.readResponse());
        assert.deepEqual(got.map((r) => r.status), [200, 404, 400, 401, 200]);
        assert.equal(got[2].body.error, 'invalid_json');
        await conn.waitClosed(5000);
      } finally { conn.destroy(); }
    });

    test('Connection: close and HTTP/1.0 close after the response', async () => {
      let conn = await connectRaw(srv.port);
      try {
        await conn.write(rawRequest('GET', '/api/health', { headers: { Connection: 'close' } }));
        const res = await conn.readResponse();
        assert.equal(res.status, 200);
        await conn.waitClosed(5000);
      } finally { conn.destroy(); }
      conn = await connectRaw(srv.port);
      try {
        await conn.write('GET /api/health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n');
        const res = await conn.readResponse();
        assert.equal(res.status, 200);
        await conn.waitClosed(5000);
      } finally { conn.destroy(); }
    });

    test('100 pipelined requests in one write are all answered in order', async () => {
      const conn = await connectRaw(srv.port);
      try {
        const paths = Array.from({ length: 100 }, (_, i) => (i % 3 === 0 ? `/api/none-${i}` : '/api/health'));
        await conn.write(Buffer.concat(paths.map((p) => rawRequest('GET', p))));
        for (const p of paths) {
          const res = await conn.readResponse(10_000);
          assert.equal(res.status, p === '/api/health' ? 200 : 404);
        }
      } finally { conn.destroy(); }
    });

    test('HEAD on a GET route answers like GET without a body', async () => {
      const conn = await connectRaw(srv.port);
      try {
        await conn.write(rawRequest('HEAD', '/api/health'));
        const res = await conn.readResponse(5000, { method: 'HEAD' });
        assert.equal(res.status, 200);
        assert.match(res.headers['content-type'] || '', /^application\/json/);
        // The connection stays usable: no stray body bytes.
        await conn.write(rawRequest('GET', '/api/health'));
        const next = await conn.readResponse();
        assert.equal(next.status, 200);
        assert.equal(next.body.status, 'ok');
      } finally { conn.destroy(); }
    });

    test('a request head under MAX_HEADER_BYTES (default 16384) is served', async () => {
      for (const size of [4 * 1024, 12 * 1024, 15 * 1024]) {
        const conn = await connectRaw(srv.port);
        try {
          await conn.write(rawRequest('GET', '/api/health', { headers: { 'X-Big': 'b'.repeat(size) } }));
          const res = await conn.readResponse(5000);
          assert.equal(res.status, 200, `a ${size}-byte header: ${res.status} ${res.text}`);
          assert.equal(res.body.status, 'ok');
        } finally { conn.destroy(); }
      }
    });

    test('a request head over MAX_HEADER_BYTES is 431, the connection closes and the server keeps serving', async () => {
      for (const size of [17 * 1024, 64 * 1024]) {
        const conn = await connectRaw(srv.port);
        try {
          await conn.write(rawRequest('GET', '/api/health', { headers: { 'X-Big': 'b'.repeat(size) } }));
          const res = await conn.readResponse(5000);
          assert.equal(res.status, 431, `a ${size}-byte header: ${res.status} ${res.text}`);
          assertSecurityHeaders(res.headers);
          await conn.waitClosed(5000);
        } finally { conn.destroy(); }
      }
      assert.equal((await request(srv.url, '/api/health')).status, 200);
    });

    test('a malformed request line gets a 400, the connection closes and the server keeps serving', async () => {
      const conn = await connectRaw(srv.port);
      try {
        await conn.write('THIS IS NOT HTTP\r\n\r\n');
        const res = await conn.readResponse(5000);
        assert.equal(res.status, 400, res.text);
        assert.equal(res.headers.connection, 'close');
        await conn.waitClosed(5000);
      } finally { conn.destroy(); }
      assert.equal((await request(srv.url, '/api/health')).status, 200);
    });
  });
});

// The behaviour here is time itself. Lower bounds are strict: each is
// measured from a moment before the server could have started the timer (so
// a slow client never makes the server look early), less CLOCK_SLACK_MS for
// clock granularity. Upper bounds are deadlines with seconds of slack. The
// three timeouts differ, so that each test shows which one closed it. The
// tests mostly wait, each on a connection of its own: they run together.
describe('timeouts', { concurrency: true }, () => {
  let srv;
  const HEADERS_TIMEOUT = 1000;
  const REQUEST_TIMEOUT = 3000;
  const KEEPALIVE_TIMEOUT = 10_000;
  const SLACK = 8000;
  before(async () => {
    srv = await startServer({
      env: {
        RATE_LIMIT_DISABLED: '1',
        HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT),
        KEEPALIVE_TIMEOUT_MS: String(KEEPALIVE_TIMEOUT),
        REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT),
      },
    });
  });
  after(async () => { if (srv) assert.equal(await srv.stop(), 0); });

  test('a slow-loris client sending headers a byte at a time is cut off after HEADERS_TIMEOUT_MS, without an answer', async () => {
    const t0 = Date.now();
    const conn = await connectRaw(srv.port);
    const text = 'GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ' + 'a'.repeat(1000);
    let stop = false;
    // The client under test: a byte every 50 ms, for far longer than the timeout.
    const dripping = (async () => {
      for (let i = 0; i < text.length && !stop && !conn.closed; i += 1) {
        await conn.write(text[i]);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    try {
      // The server keeps serving others meanwhile.
      assert.equal((await request(srv.url, '/api/health')).status, 200);
      await conn.waitClosed(HEADERS_TIMEOUT + SLACK);
      const elapsed = conn.closedAt - t0;
      assert.ok(elapsed >= HEADERS_TIMEOUT - CLOCK_SLACK_MS, `closed after ${elapsed} ms, before the header timeout`);
      assert.equal(conn.buf.length, 0, `a timed-out connection is closed without an answer: ${conn.buf.toString('latin1').slice(0, 200)}`);
    } finally {
      stop = true;
      conn.destroy();
      await dripping;
    }
  });

  test('a connection that sends nothing is closed after HEADERS_TIMEOUT_MS, without an answer', async () => {
    const t0 = Date.now();
    const conn = await connectRaw(srv.port);
    try {
      await conn.waitClosed(HEADERS_TIMEOUT + SLACK);
      const elapsed = conn.closedAt - t0;
      assert.ok(elapsed >= HEADERS_TIMEOUT - CLOCK_SLACK_MS, `closed after ${elapsed} ms`);
      assert.ok(elapsed < KEEPALIVE_TIMEOUT, `closed after ${elapsed} ms: by KEEPALIVE_TIMEOUT_MS, not HEADERS_TIMEOUT_MS`);
      assert.equal(conn.buf.length, 0);
    } finally { conn.destroy(); }
  });

  test('an idle keep-alive connection is closed after KEEPALIVE_TIMEOUT_MS', async () => {
    const conn = await connectRaw(srv.port);
    try {
      // The timer starts once the response is written, after this moment.
      const t0 = Date.now();
      await conn.write(rawRequest('GET', '/api/health'));
      const res = await conn.readResponse();
      assert.equal(res.status, 200);
      await conn.waitClosed(KEEPALIVE_TIMEOUT + SLACK);
      const elapsed = conn.closedAt - t0;
      assert.ok(elapsed >= KEEPALIVE_TIMEOUT - CLOCK_SLACK_MS, `closed ${elapsed} ms after the request, before the keep-alive timeout`);
      assert.equal(conn.buf.length, 0);
    } finally { conn.destroy(); }
  });

  test('a body that trickles in slower than REQUEST_TIMEOUT_MS allows is cut off, however steady the trickle', async () => {
    const conn = await connectRaw(srv.port);
    let stop = false;
    // The timer starts once the head is read, after this moment.
    const t0 = Date.now();
    // The client under test: a byte of body every 100 ms.
    const dripping = (async () => {
      await conn.write(rawRequest('POST', '/api/auth/login', { headers: { 'Content-Type': 'application/json', 'Content-Length': '100000' } }));
      while (!stop && !conn.closed) {
        await conn.write('a');
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    try {
      await conn.waitClosed(REQUEST_TIMEOUT + SLACK);
      const elapsed = conn.closedAt - t0;
      assert.ok(elapsed >= REQUEST_TIMEOUT - CLOCK_SLACK_MS, `closed after ${elapsed} ms`);
      assert.equal(conn.buf.length, 0);
    } finally {
      stop = true;
      conn.destroy();
      await dripping;
    }
  });
});

describe('rate limiting', () => {
  let srv;
  before(async () => { srv = await startServer({ env: { RATE_LIMIT_AUTH_PER_MIN: '3' } }); });
  after(async () => { if (srv) assert.equal(await srv.stop(), 0); });

  test('the 4th auth attempt in a minute is 429 rate_limited with Retry-After', async () => {
    const email = uniqueEmail('rl');
    const first = await register(srv.url, { email });
    assert.equal(first.status, 201, first.text);
    const second = await login(srv.url, { email, password: 'wrong password' });
    assertError(second, 401, 'invalid_credentials');
    const third = await login(srv.url, { email, password: 'correct horse battery' });
    assert.equal(third.status, 200, third.text);
    const limited = await login(srv.url, { email, password: 'correct horse battery' });
    assertError(limited, 429, 'rate_limited');
    assertSecurityHeaders(limited.headers);
    const retry = limited.headers.get('retry-after');
    assert.match(retry ?? '', /^\d+$/, `Retry-After: ${retry}`);
    assert.ok(Number(retry) >= 1 && Number(retry) <= 60, `Retry-After ${retry}`);
    assert.equal(limited.cookies.length, 0, 'no cookie on 429');

    const reg = await register(srv.url, { email: uniqueEmail('rl') });
    assertError(reg, 429, 'rate_limited');
    assert.ok(reg.headers.get('retry-after'));

    // A client cannot escape the limit with X-Forwarded-For (no proxy is trusted by default).
    const spoofed = await login(srv.url, { email, password: 'correct horse battery' }, { headers: { 'x-forwarded-for': '203.0.113.9' } });
    assertError(spoofed, 429, 'rate_limited');

    // The limit is per client IP: another loopback address is not limited.
    const other = await connectRaw(srv.port, '127.0.0.1', '127.0.0.2');
    try {
      const body = JSON.stringify({ email, password: 'correct horse battery' });
      await other.write(rawRequest('POST', '/api/auth/login', { headers: { 'Content-Type': 'application/json' }, body }));
      const res = await other.readResponse();
      assert.equal(res.status, 200, `another IP must have its own bucket: ${res.status} ${res.text}`);
    } finally { other.destroy(); }

    // Other routes are not limited.
    assert.equal((await request(srv.url, '/api/health')).status, 200);
    const me = await request(srv.url, '/api/auth/me', { token: third.body.token });
    assert.equal(me.status, 200);
    assert.equal((await request(srv.url, '/api/users', { token: third.body.token })).status, 200);
    assert.equal((await request(srv.url, '/api/auth/logout', { method: 'POST', token: third.body.token })).status, 200);
  });
});
