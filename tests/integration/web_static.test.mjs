// The web client's files served by parleyd (WEB_ROOT, http::StaticSite) over
// real sockets: types, ETag and 304, cache policy, the SPA fall-back, the
// API's paths keeping their meaning, and hostile paths finding nothing.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, runToExit, request, makeTempDir, connectRaw, rawRequest } from './lib/server.mjs';
import { assertError, assertSecurityHeaders } from './lib/checks.mjs';

const INDEX = '<!doctype html><title>Parley</title><script type="module" src="/assets/index-B7xk2_Qa.js"></script>';
const SCRIPT = 'console.log("parley")';

function makeSite() {
  const dir = makeTempDir('parley-web-');
  const site = path.join(dir, 'site');
  fs.mkdirSync(path.join(site, 'assets'), { recursive: true });
  fs.writeFileSync(path.join(site, 'index.html'), INDEX);
  fs.writeFileSync(path.join(site, 'assets', 'index-B7xk2_Qa.js'), SCRIPT);
  fs.writeFileSync(path.join(site, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  fs.writeFileSync(path.join(dir, 'secret.txt'), 'outside');
  fs.symlinkSync(path.join(dir, 'secret.txt'), path.join(site, 'secret.txt'));
  return site;
}

async function rawGet(port, target) {
  const conn = await connectRaw(port);
  try {
    await conn.write(rawRequest('GET', target, { headers: { Accept: 'text/html' } }));
    return await conn.readResponse();
  } finally {
    conn.destroy();
  }
}

describe('web client files', () => {
  let srv;
  before(async () => {
    srv = await startServer({ env: { WEB_ROOT: makeSite(), RATE_LIMIT_DISABLED: '1' } });
  });
  after(async () => { if (srv) assert.equal(await srv.stop(), 0); });

  test('/ is index.html, revalidated, with the security headers and a strict CSP', async () => {
    const r = await request(srv.url, '/', { headers: { accept: 'text/html' } });
    assert.equal(r.status, 200);
    assert.equal(r.text, INDEX);
    assert.equal(r.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(r.headers.get('cache-control'), 'no-cache');
    assert.match(r.headers.get('etag'), /^"[0-9a-f]+-[0-9a-f]{16}"$/);
    assertSecurityHeaders(r.headers);
    const csp = r.headers.get('content-security-policy');
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.match(csp, /script-src 'self'/);
    assert.match(csp, /style-src 'self'/);
    assert.match(csp, /connect-src 'self' ws: wss:/);
  });

  test('If-None-Match with the ETag is a 304 without a body', async () => {
    const first = await request(srv.url, '/index.html');
    const etag = first.headers.get('etag');
    const again = await request(srv.url, '/index.html', { headers: { 'if-none-match': etag } });
    assert.equal(again.status, 304);
    assert.equal(again.text, '');
    assert.equal(again.headers.get('etag'), etag);
    const other = await request(srv.url, '/index.html', { headers: { 'if-none-match': '"stale"' } });
    assert.equal(other.status, 200);
  });

  test('hashed assets are immutable, typed by extension; HEAD has no body', async () => {
    const js = await request(srv.url, '/assets/index-B7xk2_Qa.js');
    assert.equal(js.status, 200);
    assert.equal(js.text, SCRIPT);
    assert.equal(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.equal(js.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    const svg = await request(srv.url, '/favicon.svg');
    assert.equal(svg.headers.get('content-type'), 'image/svg+xml');
    assert.equal(svg.headers.get('cache-control'), 'no-cache');
    const head = await request(srv.url, '/assets/index-B7xk2_Qa.js', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), String(SCRIPT.length));
    assert.equal(head.text, '');
  });

  test('unknown pages get index.html only when the request accepts HTML', async () => {
    const page = await request(srv.url, '/c/some-conversation', { headers: { accept: 'text/html,*/*' } });
    assert.equal(page.status, 200);
    assert.equal(page.text, INDEX);
    assertError(await request(srv.url, '/c/some-conversation', { headers: { accept: 'application/json' } }), 404, 'not_found');
    assertError(await request(srv.url, '/assets/missing-B7xk2_Qa.js', { headers: { accept: 'text/html' } }), 404, 'not_found');
  });

  test('/api, /socket.io and /metrics keep their meaning', async () => {
    assertError(await request(srv.url, '/api/nope', { headers: { accept: 'text/html' } }), 404, 'not_found');
    assertError(await request(srv.url, '/api', { headers: { accept: 'text/html' } }), 404, 'not_found');
    const health = await request(srv.url, '/api/health', { headers: { accept: 'text/html' } });
    assert.equal(health.status, 200);
    assert.equal(health.body.status, 'ok');
    const metrics = await request(srv.url, '/metrics', { headers: { accept: 'text/html' } });
    assert.equal(metrics.status, 200);
    assert.match(metrics.text, /parley_/);
    const eio = await request(srv.url, '/socket.io/?EIO=4&transport=polling', { headers: { accept: 'text/html' } });
    assert.equal(eio.status, 200);
    assert.match(eio.text, /^0\{"sid"/);
    assertError(await request(srv.url, '/', { method: 'POST', body: {} }), 404, 'not_found');
  });

  test('escapes, symlinks and hostile paths find nothing', async () => {
    for (const target of ['/../secret.txt', '/assets/../../secret.txt', '/%2e%2e/secret.txt', '/secret.txt',
      '/a%00b', '/..%5csecret.txt', '/.env', `/${'a'.repeat(2000)}.js`]) {
      const r = await rawGet(srv.port, target);
      assert.equal(r.status, 404, target);
      assert.doesNotMatch(r.body.toString(), /outside/, target);
    }
  });
});

describe('WEB_ROOT at start-up', () => {
  test('a missing directory stops the start with one clear line', async () => {
    const r = await runToExit({ env: { WEB_ROOT: '/nonexistent/parley-web' } });
    assert.notEqual(r.code, 0);
    assert.equal(r.listened, false);
    assert.match(r.stderr, /WEB_ROOT \/nonexistent\/parley-web is not a directory/);
  });

  test('a client over WEB_MAX_BYTES stops the start', async () => {
    const site = makeSite();
    fs.writeFileSync(path.join(site, 'assets', 'big-B7xk2_Qa.js'), 'x'.repeat(2048));
    const r = await runToExit({ env: { WEB_ROOT: site, WEB_MAX_BYTES: '1024' } });
    assert.notEqual(r.code, 0);
    assert.equal(r.listened, false);
    assert.match(r.stderr, /WEB_MAX_BYTES/);
  });

  test('an empty WEB_ROOT serves no client', async () => {
    const srv = await startServer({ env: { WEB_ROOT: '' } });
    try {
      assertError(await request(srv.url, '/', { headers: { accept: 'text/html' } }), 404, 'not_found');
    } finally {
      assert.equal(await srv.stop(), 0);
    }
  });
});
