// GET /api/health, GET /metrics, request logging and graceful shutdown.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, request, connectRaw, rawRequest, waitFor } from './lib/server.mjs';
import { assertError, assertSecurityHeaders } from './lib/checks.mjs';
import { pollingHandshake, pollPost, wsConnect } from './lib/eio.mjs';

/** Parses Prometheus text format into {types: Map(name -> type), samples: [{name, labels, value, line}]}. */
function parseMetrics(text) {
  const types = new Map();
  const samples = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    if (line.startsWith('#')) {
      const m = line.match(/^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/);
      if (m) types.set(m[1], m[2]);
      continue;
    }
    const m = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? ([^ ]+)( -?\d+)?$/);
    assert.ok(m, `malformed metrics line: ${JSON.stringify(line)}`);
    const labels = {};
    if (m[3]) {
      for (const lm of m[3].matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[lm[1]] = lm[2];
    }
    const value = m[4] === '+Inf' ? Infinity : m[4] === '-Inf' ? -Infinity : Number(m[4]);
    assert.ok(m[4] === 'NaN' || !Number.isNaN(value), `bad value in ${line}`);
    samples.push({ name: m[1], labels, value, line });
  }
  return { types, samples };
}

async function metrics(url) {
  const res = await request(url, '/metrics');
  assert.equal(res.status, 200, res.text);
  assert.match(res.headers.get('content-type') || '', /^text\/plain/);
  return { res, ...parseMetrics(res.text) };
}

function routeLabel(labels) {
  return labels.route ?? labels.path ?? labels.handler ?? '';
}

function healthCount(samples, types) {
  let n = 0;
  for (const s of samples) {
    if (types.get(s.name) !== 'counter' && types.get(s.name.replace(/_total$/, '')) !== 'counter') continue;
    if (routeLabel(s.labels).includes('/api/health') && s.labels.status === '200') n += s.value;
  }
  return n;
}

describe('health and metrics', () => {
  let srv;
  before(async () => { srv = await startServer({ env: { RATE_LIMIT_DISABLED: '1' } }); });
  after(async () => { if (srv) assert.equal(await srv.stop(), 0); });

  test('GET /api/health is 200 {status, db, uptimeSeconds, version}', async () => {
    const res = await request(srv.url, '/api/health');
    assert.equal(res.status, 200, res.text);
    assert.match(res.headers.get('content-type'), /^application\/json/);
    assertSecurityHeaders(res.headers);
    assert.deepEqual(Object.keys(res.body).sort(), ['db', 'status', 'uptimeSeconds', 'version']);
    assert.equal(res.body.status, 'ok');
    assert.equal(res.body.db, 'ok');
    assert.equal(typeof res.body.uptimeSeconds, 'number');
    assert.ok(res.body.uptimeSeconds >= 0 && res.body.uptimeSeconds < 3600, `uptimeSeconds ${res.body.uptimeSeconds}`);
    assert.equal(typeof res.body.version, 'string');
    assert.ok(res.body.version.length > 0);
  });

  test('health needs no token and ignores a bad one', async () => {
    const res = await request(srv.url, '/api/health', { token: 'garbage' });
    assert.equal(res.status, 200);
    assert.equal(res.body.status, 'ok');
  });

  test('uptimeSeconds grows', async () => {
    const first = (await request(srv.url, '/api/health')).body.uptimeSeconds;
    await waitFor(async () => (await request(srv.url, '/api/health')).body.uptimeSeconds > first,
      { timeoutMs: 10_000, intervalMs: 100, what: 'uptimeSeconds to increase' });
  });

  test('GET /metrics is Prometheus text with a counter, a histogram and a gauge', async () => {
    await request(srv.url, '/api/health');
    const { res, types, samples } = await metrics(srv.url);
    assertSecurityHeaders(res.headers);
    const kinds = new Set(types.values());
    assert.ok(kinds.has('counter'), '# TYPE ... counter');
    assert.ok(kinds.has('histogram'), '# TYPE ... histogram');
    assert.ok(kinds.has('gauge'), '# TYPE ... gauge');

    // Request counts by route and status.
    const labelled = samples.filter((s) => s.line.includes('route=') && s.line.includes('status='));
    assert.ok(labelled.length > 0, 'request counters carry route= and status= labels');
    assert.ok(labelled.some((s) => s.line.includes('/api/health') && s.labels.status === '200'), 'a line for GET /api/health 200');

    // A duration histogram: buckets up to +Inf, _sum and _count.
    const hist = [...types].filter(([, t]) => t === 'histogram').map(([n]) => n);
    let found = false;
    for (const h of hist) {
      const buckets = samples.filter((s) => s.name === `${h}_bucket`);
      const sums = samples.filter((s) => s.name === `${h}_sum`);
      const counts = samples.filter((s) => s.name === `${h}_count`);
      if (buckets.length === 0) continue;
      assert.ok(sums.length > 0 && counts.length > 0, `${h} has _sum and _count`);
      const inf = buckets.filter((b) => b.labels.le === '+Inf');
      assert.ok(inf.length > 0, `${h} has an le="+Inf" bucket`);
      // For each label set: buckets are cumulative and +Inf equals _count.
      const key = (labels) => JSON.stringify(Object.entries(labels).filter(([k]) => k !== 'le').sort());
      for (const c of counts) {
        const mine = buckets.filter((b) => key(b.labels) === key(c.labels));
        const sorted = mine.map((b) => [b.labels.le === '+Inf' ? Infinity : Number(b.labels.le), b.value]).sort((a, b) => a[0] - b[0]);
        for (let i = 1; i < sorted.length; i += 1) assert.ok(sorted[i][1] >= sorted[i - 1][1], `${h} buckets are cumulative`);
        assert.equal(sorted.at(-1)[0], Infinity);
        assert.equal(sorted.at(-1)[1], c.value, `${h} +Inf bucket equals _count`);
      }
      found = true;
    }
    assert.ok(found, 'a histogram with _bucket samples');

    // An open-connections gauge; this very request holds a connection open.
    const gauges = [...types].filter(([n, t]) => t === 'gauge' && /conn/i.test(n)).map(([n]) => n);
    assert.ok(gauges.length > 0, `a connections gauge among ${[...types.keys()]}`);
    const values = samples.filter((s) => gauges.includes(s.name)).map((s) => s.value);
    assert.ok(values.some((v) => v >= 1), `open connections >= 1: ${values}`);
  });

  test('request counts grow with requests and record the status', async () => {
    const before = await metrics(srv.url);
    const n0 = healthCount(before.samples, before.types);
    for (let i = 0; i < 5; i += 1) assert.equal((await request(srv.url, '/api/health')).status, 200);
    assertError(await request(srv.url, '/api/auth/me'), 401, 'unauthorized');
    // A request is counted once its response is written, which the client may
    // see first: wait for the counts, then check they are exact.
    const counted = (m) => healthCount(m.samples, m.types) >= n0 + 5
      && m.samples.some((s) => s.line.includes('/api/auth/me') && s.labels.status === '401');
    const after1 = await waitFor(async () => { const m = await metrics(srv.url); return counted(m) ? m : null; },
      { what: 'the 5 health requests and the 401 to be counted' });
    assert.equal(healthCount(after1.samples, after1.types), n0 + 5);
  });

  test('unknown paths do not each create a metrics series', async () => {
    const before = await metrics(srv.url);
    for (let i = 0; i < 5; i += 1) await request(srv.url, `/api/random-${i}-${Date.now()}`);
    const after1 = await metrics(srv.url);
    assert.ok(!after1.res.text.includes('/api/random-'), 'route labels must be route patterns, not raw paths');
    assert.ok(after1.samples.length <= before.samples.length + 40, 'bounded label cardinality');
  });

  test('one log line per request on stdout', async () => {
    await request(srv.url, '/api/health');
    await srv.stdout.wait(/GET[^\n]*\/api\/health[^\n]*200|200[^\n]*GET[^\n]*\/api\/health/, 5000);
    await request(srv.url, '/api/unknown-log-probe');
    const m = await srv.stdout.wait(/[^\n]*\/api\/unknown-log-probe[^\n]*/, 5000);
    assert.match(m[0], /404/);
    assert.match(m[0], /GET/);
    assert.ok(!srv.stdout.text.includes('integration-test-secret'), 'the secret is never logged');
  });
});

describe('logging in production', () => {
  let srv;
  before(async () => {
    srv = await startServer({ env: { RATE_LIMIT_DISABLED: '1', NODE_ENV: 'production' } });
  });
  after(async () => { if (srv) assert.equal(await srv.stop(), 0); });

  test('request log lines are JSON lines', async () => {
    await request(srv.url, '/api/json-log-probe');
    const m = await srv.stdout.wait(/[^\n]*json-log-probe[^\n]*\n/, 5000);
    const line = m[0].trim();
    const obj = JSON.parse(line);
    assert.equal(typeof obj, 'object');
    assert.ok(line.includes('GET') && line.includes('404'), line);
    for (const l of srv.stdout.lines()) {
      assert.doesNotThrow(() => JSON.parse(l), `not a JSON line: ${l}`);
    }
  });

  test('production errors still use the contract shape, with no stack traces', async () => {
    const res = await request(srv.url, '/api/auth/register', { method: 'POST', body: '{"x"' });
    assertError(res, 400, 'invalid_json');
  });
});

describe('graceful shutdown', () => {
  test('SIGTERM exits 0, also with an idle keep-alive connection open', async () => {
    const srv = await startServer({ env: { RATE_LIMIT_DISABLED: '1' } });
    const conn = await connectRaw(srv.port);
    try {
      await conn.write(rawRequest('GET', '/api/health'));
      assert.equal((await conn.readResponse()).status, 200);
      assert.equal(await srv.stop('SIGTERM'), 0);
      await conn.waitClosed(5000);
    } finally {
      conn.destroy();
      await srv.kill();
    }
    // The port no longer accepts.
    await assert.rejects(connectRaw(srv.port));
  });

  test('SIGINT exits 0', async () => {
    const srv = await startServer({ env: { RATE_LIMIT_DISABLED: '1' } });
    try {
      assert.equal((await request(srv.url, '/api/health')).status, 200);
      assert.equal(await srv.stop('SIGINT'), 0);
    } finally {
      await srv.kill();
    }
  });

  test('SIGTERM stops accepting but finishes a request in flight', async () => {
    const srv = await startServer({ env: { RATE_LIMIT_DISABLED: '1' } });
    const conn = await connectRaw(srv.port);
    try {
      // The request has started: the server has read its headers (it answered
      // 100 Continue) and half the body has been sent.
      const body = JSON.stringify({ name: 'Inflight', email: `inflight-${Date.now()}@example.com`, password: 'correct horse battery' });
      const half = Math.floor(body.length / 2);
      await conn.write(rawRequest('POST', '/api/auth/register', {
        headers: { 'Content-Type': 'application/json', 'Content-Length': String(body.length), Expect: '100-continue', Connection: 'close' },
      }));
      const cont = await conn.readResponse(5000);
      assert.equal(cont.status, 100, 'Expect: 100-continue is answered');
      await conn.write(body.slice(0, half));
      process.kill(srv.pid, 'SIGTERM');
      // Condition: the listener is closed (new connections are refused).
      await waitFor(async () => {
        try {
          const probe = await connectRaw(srv.port);
          probe.destroy();
          return false;
        } catch {
          return true;
        }
      }, { timeoutMs: 5000, intervalMs: 25, what: 'the listener to close after SIGTERM' });
      await conn.write(body.slice(half));
      const res = await conn.readResponse(5000);
      assert.equal(res.status, 201, res.text);
      assert.equal(await srv.waitExit(10_000), 0);
    } finally {
      conn.destroy();
      await srv.kill();
    }
  });

  // Sessions the shutdown closes while they still owe their client
  // something (see the lingering close in engineio/server.cpp) must not keep
  // the process from a clean exit (no leak, exit 0).
  test('SIGTERM exits 0 with a polling session holding packets not yet polled', async () => {
    const srv = await startServer({ env: { PROTOCOL_TEST_MODE: '1', RATE_LIMIT_DISABLED: '1' } });
    const { sid } = await pollingHandshake(srv.url, '/engine.io/');
    assert.equal((await pollPost(srv.url, '/engine.io/', sid, '4undelivered')).text, 'ok');
    assert.equal(await srv.stop(), 0);
  });

  test('SIGTERM exits 0 with a session halfway through its upgrade', async () => {
    const srv = await startServer({ env: { PROTOCOL_TEST_MODE: '1', RATE_LIMIT_DISABLED: '1' } });
    const { sid } = await pollingHandshake(srv.url, '/engine.io/');
    const ws = wsConnect(srv.url, '/engine.io/', { sid });
    try {
      await ws.waitOpen();
      await ws.send('2probe');
      assert.equal(await ws.next(10_000, '3probe'), '3probe');
      assert.equal(await srv.stop(), 0);
    } finally { ws.terminate(); }
  });
});
