// HTTP/1.1 framing and the errors the HTTP layer answers itself: large
// heads, malformed requests, Transfer-Encoding, Host, the 413 a client that
// writes its whole body still sees, WebSocket origins, the file-descriptor
// limit. Every such error is the contract's JSON with the security headers.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';

import { PARLEYD, RawConn, startServer, request, connectRaw, rawRequest, newUser, waitFor, parseResponse } from './lib/server.mjs';
import { assertSecurityHeaders } from './lib/checks.mjs';
import WebSocket from 'ws';

import { WsClient, wsUrl, metricValue } from './lib/eio.mjs';

// The harness stops every server after the file and checks it exits 0.
const server = (env = {}) => startServer({ env });

/** The contract's error shape, for responses read off a raw socket. */
function assertRawError(res, status, code) {
  assert.equal(res.status, status, `expected ${status}, got ${res.status} ${res.text}`);
  assert.match(res.headers['content-type'] || '', /^application\/json/);
  const body = JSON.parse(res.text);
  assert.equal(body.error, code);
  assert.equal(typeof body.message, 'string');
  assert.ok(body.message.length > 0);
  assertSecurityHeaders(res.headers);
}

/** Sends raw bytes on a new connection; resolves every response until the server closes. */
async function exchange(srv, bytes) {
  const conn = await connectRaw(srv.port);
  await conn.write(Buffer.from(bytes, 'latin1'));
  await conn.waitClosed(5000);
  const out = [];
  for (;;) {
    const r = parseResponse(conn.buf, { closed: true });
    if (!r) break;
    out.push(r);
    conn.buf = conn.buf.subarray(r.consumed);
    if (conn.buf.length === 0) break;
  }
  return out;
}

test('MAX_HEADER_BYTES above 8 KiB is honoured, and 431 is JSON', async () => {
  for (const limit of ['16384', '32768']) {
    const srv = await server({ MAX_HEADER_BYTES: limit });
    const under = await request(srv.url, '/api/health', { headers: { 'x-pad': 'a'.repeat(9000) } });
    assert.equal(under.status, 200, `a 9,000-byte header under MAX_HEADER_BYTES=${limit}`);
    const conn = await connectRaw(srv.port);
    await conn.write(rawRequest('GET', '/api/health', { headers: { 'x-pad': 'a'.repeat(Number(limit) + 100) } }));
    assertRawError(await conn.readResponse(), 431, 'payload_too_large');
    conn.destroy();
  }
});

test('malformed requests get a JSON 400 with the security headers', async () => {
  const srv = await server();
  for (const bytes of ['GARBAGE\r\n\r\n', 'GET / HTTP/9.9\r\nHost: x\r\n\r\n', 'GET /api/health HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n']) {
    const [res, ...rest] = await exchange(srv, bytes);
    assertRawError(res, 400, 'bad_request');
    assert.equal(rest.length, 0);
  }
});

test('Transfer-Encoding other than exactly chunked is a 400, never a smuggled request', async () => {
  const srv = await server();
  const smuggled = 'GET /api/users HTTP/1.1\r\nHost: x\r\n\r\n';
  const chunk = `${smuggled.length.toString(16)}\r\n${smuggled}\r\n0\r\n\r\n`;
  for (const te of ['chunked, identity', 'identity, chunked', 'gzip, chunked', 'identity', 'chunked\r\nTransfer-Encoding: chunked']) {
    const responses = await exchange(srv, `POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: ${te}\r\n\r\n${chunk}`);
    assert.equal(responses.length, 1, `one answer for Transfer-Encoding: ${te}`);
    assertRawError(responses[0], 400, 'bad_request');
  }
  // Exactly chunked (any case) is fine.
  const body = '{"email":"a@b.c","password":"x"}';
  const ok = await exchange(srv, `POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: Chunked\r\nConnection: close\r\n\r\n${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`);
  assert.equal(ok.length, 1);
  assert.equal(ok[0].status, 401);
});

test('HTTP/1.1 without exactly one Host is a 400; HTTP/1.0 needs none', async () => {
  const srv = await server();
  const [none] = await exchange(srv, 'GET /api/health HTTP/1.1\r\n\r\n');
  assertRawError(none, 400, 'bad_request');
  const [two] = await exchange(srv, 'GET /api/health HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n');
  assertRawError(two, 400, 'bad_request');
  const [old] = await exchange(srv, 'GET /api/health HTTP/1.0\r\n\r\n');
  assert.equal(old.status, 200);
});

test('the auth scheme is case-insensitive: a bad BEARER token is a 401, not the cookie', async () => {
  const srv = await server();
  const alice = await newUser(srv.url);
  const cookie = `token=${alice.token}`;
  assert.equal((await request(srv.url, '/api/auth/me', { cookie })).status, 200);
  for (const scheme of ['BEARER', 'bearer', 'Bearer', 'bEaReR']) {
    const bad = await request(srv.url, '/api/auth/me', { cookie, headers: { authorization: `${scheme} not-a-token` } });
    assert.equal(bad.status, 401, `${scheme} <bad> with a good cookie`);
    const good = await request(srv.url, '/api/auth/me', { headers: { authorization: `${scheme} ${alice.token}` } });
    assert.equal(good.status, 200, `${scheme} <good>`);
  }
  const basic = await request(srv.url, '/api/auth/me', { cookie, headers: { authorization: 'Basic eDp5' } });
  assert.equal(basic.status, 200, 'another scheme is ignored');
});

test('after a 413 the server reads what the client still sends (lingering close), then closes cleanly', async () => {
  const srv = await server();
  // Half-open: the server's FIN after its answer must not end our sending.
  const socket = net.connect({ port: srv.port, host: '127.0.0.1', allowHalfOpen: true });
  await new Promise((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject); });
  const conn = new RawConn(socket);
  const total = 4 * 1024 * 1024;
  await conn.write(rawRequest('POST', '/api/auth/register', {
    headers: { 'Content-Type': 'application/json', 'Content-Length': String(total) },
  }));
  await conn.write(Buffer.alloc(64 * 1024, 0x20));
  const res = await conn.readResponse();
  assert.equal(res.status, 413);
  assert.equal(res.body.error, 'payload_too_large');
  // The client goes on writing its body: no reset, then a clean end.
  const chunk = Buffer.alloc(256 * 1024, 0x20);
  for (let sent = 64 * 1024; sent < total; sent += chunk.length) {
    assert.equal(await conn.write(chunk), true, `write at ${sent} bytes`);
  }
  conn.socket.end();
  await conn.waitClosed(10_000);
  assert.equal(conn.error, null, `the connection ended without an error: ${conn.error?.message}`);
  // A body far over the lingering bound is cut, and the server stays up.
  const health = await request(srv.url, '/api/health');
  assert.equal(health.status, 200);
});

test('a fetch() client that writes its whole body before reading still sees the 413', async () => {
  const srv = await server();
  const big = JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024), email: 'a@b.c', password: 'pw' });
  const res = await fetch(`${srv.url}/api/auth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: big });
  assert.equal(res.status, 413);
  assert.equal((await res.json()).error, 'payload_too_large');
});

function wsWithOrigin(url, origin) {
  const headers = origin ? { origin } : {};
  return new WsClient(new WebSocket(wsUrl(url, '/socket.io/'), { perMessageDeflate: false, headers }));
}

test('WebSocket upgrades from an Origin outside CLIENT_URL, and not the server\'s own, are refused', async () => {
  const srv = await server({ CLIENT_URL: 'http://app.example' });
  const evil = wsWithOrigin(srv.url, 'http://evil.example');
  await evil.until(() => evil.httpStatus !== null, 5000, 'the refusal');
  assert.equal(evil.httpStatus, 403);
  const raw = await connectRaw(srv.port);
  await raw.write(rawRequest('GET', '/socket.io/?EIO=4&transport=websocket', {
    headers: {
      Origin: 'http://evil.example', Upgrade: 'websocket', Connection: 'Upgrade',
      'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version': '13',
    },
  }));
  assertRawError(await raw.readResponse(), 403, 'forbidden');
  raw.destroy();
  // Listed, none (not a browser), and the server's own origin (a page it
  // served: the web client) are allowed.
  for (const origin of ['http://app.example', undefined, srv.url]) {
    const ok = wsWithOrigin(srv.url, origin);
    await ok.waitOpen();
    ok.close();
  }
  const any = await server({ CLIENT_URL: 'http://app.example', WS_ALLOW_ANY_ORIGIN: '1' });
  const allowed = wsWithOrigin(any.url, 'http://evil.example');
  await allowed.waitOpen();
  allowed.close();
});

function cpuTicks(pid) {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(fields[11]) + Number(fields[12]);  // utime + stime, in clock ticks (1/100 s)
}

async function healthy(url) {
  try {
    return (await request(url, '/api/health')).status === 200;
  } catch {
    return false;  // refused or reset while descriptors are short
  }
}

// Under AddressSanitizer/UBSan the sanitizer runtime itself needs file
// descriptors (it reads /proc/self/maps to check a type), so exhausting them
// makes it report on its own failure: this runs on the optimised build.
const sanitized = Boolean(process.env.ASAN_OPTIONS || process.env.UBSAN_OPTIONS);
test('at the open-files limit the acceptor backs off instead of spinning', {
  skip: sanitized && 'the sanitizer runtime cannot work without descriptors',
}, async () => {
  const srv = await server();
  execFileSync('prlimit', [`--pid=${srv.pid}`, '--nofile=100:100']);
  const conns = [];
  for (let i = 0; i < 150; i += 1) conns.push(await connectRaw(srv.port));
  await srv.stdout.wait(/accept: /, 5000);
  // The behaviour under test is CPU over time: two seconds at the limit.
  const ticks0 = cpuTicks(srv.pid);
  const t0 = Date.now();
  await waitFor(() => Date.now() - t0 >= 2000, { what: 'two seconds at the limit', intervalMs: 100 });
  const ticks = cpuTicks(srv.pid) - ticks0;
  assert.ok(ticks < 50, `the server used ${ticks} ticks of CPU in 2 s at the limit`);
  const lines = srv.stdout.lines().filter((l) => l.includes('accept: ')).length;
  assert.ok(lines >= 1 && lines <= 4, `${lines} accept log lines in about 2 s`);
  for (const c of conns) c.destroy();
  await waitFor(() => healthy(srv.url), { timeoutMs: 10_000, what: 'health after the connections close' });
  assert.ok(await metricValue(srv.url, 'parley_http_accept_fd_exhausted_total') > 0);
});

const limitedDirs = [];
after(() => { for (const d of limitedDirs) fs.rmSync(d, { recursive: true, force: true }); });

// parleyd under a given open-files limit (soft:hard), via prlimit.
function spawnLimited(nofile, env) {
  const dir = fs.mkdtempSync('/tmp/parley-fd-');
  limitedDirs.push(dir);
  const proc = spawn('prlimit', [`--nofile=${nofile}`, PARLEYD], {
    cwd: dir,
    env: { PATH: process.env.PATH, HOST: '127.0.0.1', PORT: '0', JWT_SECRET: 'x'.repeat(40), DATABASE_URL: `sqlite:${dir}/p.db`, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout.on('data', (d) => { out += d; });
  proc.stderr.on('data', (d) => { out += d; });
  const exited = new Promise((resolve) => proc.once('exit', (code, signal) => resolve(code ?? signal)));
  return { proc, exited, output: () => out, dir };
}

test('MAX_CONNECTIONS must fit the open-files limit; the soft limit is raised to the hard one', async () => {
  const refused = spawnLimited('1024:1024', { MAX_CONNECTIONS: '2000' });
  assert.equal(await refused.exited, 2);
  assert.match(refused.output(), /^parleyd: MAX_CONNECTIONS=2000 needs about \d+ open files but the limit is 1024/m);

  const raised = spawnLimited('256:1024', { MAX_CONNECTIONS: '800' });
  await waitFor(() => /listening on/.test(raised.output()) || raised.proc.exitCode !== null, { what: 'start' });
  assert.match(raised.output(), /listening on/, raised.output());
  raised.proc.kill('SIGTERM');
  assert.equal(await raised.exited, 0);

  const lowered = spawnLimited('1024:1024', {});
  await waitFor(() => /listening on/.test(lowered.output()) || lowered.proc.exitCode !== null, { what: 'start' });
  assert.match(lowered.output(), /MAX_CONNECTIONS lowered from 20000 to \d+ to fit the open files limit \(1024\)/);
  lowered.proc.kill('SIGTERM');
  assert.equal(await lowered.exited, 0);
});
