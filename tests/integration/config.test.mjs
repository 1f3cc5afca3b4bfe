// Configuration: environment and .env, bad values (exit 2 with one line on
// stderr), the development secret, DATABASE_URL forms, cookie lifetimes.

import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  startServer, runToExit, makeTempDir, request, register, newUser, parseSetCookie, decodeJwt,
} from './lib/server.mjs';

const started = [];
async function start(opts) {
  const srv = await startServer(opts);
  started.push(srv);
  return srv;
}
after(async () => {
  for (const s of started) if (s.running) assert.equal(await s.stop(), 0);
});

async function assertBadConfig(env, { mentions = [], cwd } = {}) {
  const r = await runToExit({ env, cwd });
  const what = `env ${JSON.stringify(env)}: code ${r.code}, signal ${r.signal}, stderr ${JSON.stringify(r.stderr)}`;
  assert.equal(r.timedOut, false, `still running: ${what}`);
  assert.equal(r.signal, null, `killed by a signal: ${what}`);
  assert.equal(r.code, 2, what);
  assert.equal(r.listened, false, `must not listen: ${what}`);
  const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
  assert.equal(lines.length, 1, `exactly one line on stderr: ${what}`);
  for (const m of mentions) {
    assert.ok(m instanceof RegExp ? m.test(lines[0]) : lines[0].includes(m), `the message should mention ${m}: ${lines[0]}`);
  }
  assert.doesNotMatch(r.stderr, /terminate called|Aborted|Segmentation|what\(\)/, 'a clear message, not a crash');
  return lines[0];
}

describe('bad configuration exits 2 with one line on stderr', () => {
  test('PORT not a number or out of range', async () => {
    await assertBadConfig({ PORT: 'abc' }, { mentions: ['PORT'] });
    await assertBadConfig({ PORT: '70000' }, { mentions: ['PORT'] });
    await assertBadConfig({ PORT: '-1' }, { mentions: ['PORT'] });
  });

  test('production without JWT_SECRET', async () => {
    await assertBadConfig({ NODE_ENV: 'production', JWT_SECRET: undefined }, { mentions: ['JWT_SECRET'] });
  });

  test('production with a 10-byte and a 31-byte JWT_SECRET', async () => {
    await assertBadConfig({ NODE_ENV: 'production', JWT_SECRET: '0123456789' }, { mentions: ['JWT_SECRET'] });
    await assertBadConfig({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(31) }, { mentions: ['JWT_SECRET'] });
  });

  test('MONGO_URI without DATABASE_URL says how to set DATABASE_URL', async () => {
    const line = await assertBadConfig({ MONGO_URI: 'mongodb://localhost:27017/chat', DATABASE_URL: undefined }, { mentions: ['DATABASE_URL'] });
    assert.match(line, /mongo/i, 'says MongoDB is not supported');
  });

  test('DATABASE_URL of an unsupported kind', async () => {
    await assertBadConfig({ DATABASE_URL: 'mysql://x' }, { mentions: ['DATABASE_URL'] });
    await assertBadConfig({ DATABASE_URL: 'mongodb://localhost/chat' }, { mentions: ['DATABASE_URL'] });
  });

  test('JWT_EXPIRES_IN that is not a duration', async () => {
    await assertBadConfig({ JWT_EXPIRES_IN: 'forever' }, { mentions: ['JWT_EXPIRES_IN'] });
    await assertBadConfig({ JWT_EXPIRES_IN: '7x' }, { mentions: ['JWT_EXPIRES_IN'] });
  });

  test('numeric limits that are not numbers', async () => {
    await assertBadConfig({ BODY_LIMIT_BYTES: 'lots' }, { mentions: ['BODY_LIMIT_BYTES'] });
    await assertBadConfig({ HEADERS_TIMEOUT_MS: 'soon' }, { mentions: ['HEADERS_TIMEOUT_MS'] });
    await assertBadConfig({ RATE_LIMIT_AUTH_PER_MIN: 'many' }, { mentions: ['RATE_LIMIT_AUTH_PER_MIN'] });
    await assertBadConfig({ THREADS: 'x' }, { mentions: ['THREADS'] });
    await assertBadConfig({ BCRYPT_ROUNDS: 'twelve' }, { mentions: ['BCRYPT_ROUNDS'] });
  });

  test('REDIS_URL that is not a redis:// URL, without repeating its password', async () => {
    await assertBadConfig({ REDIS_URL: 'localhost:6379' }, { mentions: ['REDIS_URL'] });
    await assertBadConfig({ REDIS_URL: 'redis://h:99999' }, { mentions: ['REDIS_URL', 'port'] });
    await assertBadConfig({ REDIS_URL: 'rediss://h:6379' }, { mentions: ['REDIS_URL', 'TLS'] });
    const line = await assertBadConfig({ REDIS_URL: 'redis://:hunter2@h/db' }, { mentions: ['REDIS_URL'] });
    assert.doesNotMatch(line, /hunter2/);
    await assertBadConfig({ REDIS_PREFIX: 'has space' }, { mentions: ['REDIS_PREFIX'] });
  });

  test('a bad value in .env is also caught', async () => {
    const dir = makeTempDir();
    fs.writeFileSync(path.join(dir, '.env'), 'JWT_EXPIRES_IN=whenever\n');
    await assertBadConfig({}, { cwd: dir, mentions: ['JWT_EXPIRES_IN'] });
  });
});

describe('good configuration', () => {
  test('production with a 32-byte secret starts', async () => {
    const srv = await start({ env: { NODE_ENV: 'production', JWT_SECRET: 'p'.repeat(32) } });
    const res = await request(srv.url, '/api/health');
    assert.equal(res.status, 200);
    assert.equal(res.body.status, 'ok');
  });

  test('MONGO_URI is ignored when DATABASE_URL is set', async () => {
    const srv = await start({ env: { MONGO_URI: 'mongodb://localhost:27017/chat' } });
    assert.equal((await request(srv.url, '/api/health')).status, 200);
  });

  test('REDIS_URL naming a Redis that is down: the node starts and serves its own clients', async () => {
    // Port 1 on loopback refuses connections: the broker keeps retrying in
    // the background, and its state shows in /metrics.
    const srv = await start({ env: { REDIS_URL: 'redis://127.0.0.1:1' } });
    assert.equal((await request(srv.url, '/api/health')).status, 200);
    const u = await newUser(srv.url);
    assert.equal((await request(srv.url, '/api/auth/me', { token: u.token })).status, 200);
    const metrics = await request(srv.url, '/metrics');
    assert.match(metrics.text, /^parley_broker_redis_connected 0$/m);
    assert.match(metrics.text, /^parley_redis_state_connected 0$/m);
  });

  test('THREADS=1 serves requests', async () => {
    const srv = await start({ env: { THREADS: '1', RATE_LIMIT_DISABLED: '1' } });
    const results = await Promise.all(Array.from({ length: 10 }, () => request(srv.url, '/api/health')));
    assert.deepEqual(results.map((r) => r.status), Array(10).fill(200));
    const u = await newUser(srv.url);
    assert.equal((await request(srv.url, '/api/auth/me', { token: u.token })).status, 200);
  });

  test('JWT_EXPIRES_IN in plain seconds and minutes sets the token and cookie lifetime', async () => {
    for (const [value, seconds] of [['90', 90], ['30m', 1800], ['45s', 45], ['2h', 7200], ['1d', 86400]]) {
      const srv = await start({ env: { JWT_EXPIRES_IN: value } });
      const res = await register(srv.url, {});
      assert.equal(res.status, 201, res.text);
      const { payload } = decodeJwt(res.body.token);
      assert.equal(payload.exp - payload.iat, seconds, `JWT_EXPIRES_IN=${value}`);
      const c = parseSetCookie(res.cookies.find((x) => x.startsWith('token=')));
      assert.equal(c.attrs['max-age'], String(seconds), `Max-Age for JWT_EXPIRES_IN=${value}`);
      assert.equal(await srv.stop(), 0);
    }
  });
});

describe('.env file', () => {
  test('settings come from .env in the working directory', async () => {
    const dir = makeTempDir();
    fs.writeFileSync(path.join(dir, '.env'), [
      '# a comment',
      '',
      'COOKIE_NAME=fromfile',
      'JWT_EXPIRES_IN="600"',
      'RATE_LIMIT_DISABLED=1',
    ].join('\n') + '\n');
    const srv = await start({ cwd: dir });
    const res = await register(srv.url, {});
    assert.equal(res.status, 201, res.text);
    const c = parseSetCookie(res.cookies[0]);
    assert.equal(c.name, 'fromfile');
    assert.equal(c.attrs['max-age'], '600');
  });

  test('the real environment wins over .env', async () => {
    const dir = makeTempDir();
    fs.writeFileSync(path.join(dir, '.env'), 'COOKIE_NAME=fromfile\nPORT=1\n');
    const srv = await start({ cwd: dir, env: { COOKIE_NAME: 'fromenv' } });
    assert.notEqual(srv.port, 1, 'PORT from the environment (0) wins');
    const res = await register(srv.url, {});
    assert.equal(res.status, 201, res.text);
    assert.equal(parseSetCookie(res.cookies[0]).name, 'fromenv');
  });
});

describe('development secret', () => {
  test('without JWT_SECRET a secret is generated under ./data/ and tokens survive a restart', async () => {
    const dir = makeTempDir();
    let srv = await start({ cwd: dir, env: { JWT_SECRET: undefined } });
    const u = await newUser(srv.url);
    assert.equal((await request(srv.url, '/api/auth/me', { token: u.token })).status, 200);
    assert.equal(await srv.stop(), 0);
    const dataDir = path.join(dir, 'data');
    assert.ok(fs.existsSync(dataDir), './data/ exists');
    assert.ok(fs.readdirSync(dataDir).length > 0, './data/ holds the secret');
    srv = await start({ cwd: dir, env: { JWT_SECRET: undefined } });
    const me = await request(srv.url, '/api/auth/me', { token: u.token });
    assert.equal(me.status, 200, me.text);
    assert.equal(me.body._id, u.user._id);
    // A different secret invalidates it: the secret really is what signs.
    assert.equal(await srv.stop(), 0);
    srv = await start({ cwd: dir, env: { JWT_SECRET: 'a-completely-different-secret-0123456789' } });
    assert.equal((await request(srv.url, '/api/auth/me', { token: u.token })).status, 401);
  });
});

describe('DATABASE_URL forms', () => {
  test('a plain file path', async () => {
    const dir = makeTempDir();
    const file = path.join(dir, 'plain.db');
    const srv = await start({ cwd: dir, env: { DATABASE_URL: file } });
    await newUser(srv.url);
    assert.ok(fs.existsSync(file), `${file} created`);
  });

  test('sqlite:RELATIVE is relative to the working directory', async () => {
    const dir = makeTempDir();
    const srv = await start({ cwd: dir, env: { DATABASE_URL: 'sqlite:rel.db' } });
    await newUser(srv.url);
    assert.ok(fs.existsSync(path.join(dir, 'rel.db')), 'rel.db in the working directory');
  });

  test('sqlite://ABSOLUTE', async () => {
    const dir = makeTempDir();
    const file = path.join(dir, 'abs.db');
    const srv = await start({ cwd: dir, env: { DATABASE_URL: `sqlite://${file}` } });
    await newUser(srv.url);
    assert.ok(fs.existsSync(file), `${file} created`);
  });

  test('unset: an SQLite file under ./data/, and data persists across a restart', async () => {
    const dir = makeTempDir();
    let srv = await start({ cwd: dir, env: { DATABASE_URL: undefined } });
    const u = await newUser(srv.url);
    assert.equal(await srv.stop(), 0);
    const files = fs.readdirSync(path.join(dir, 'data'));
    assert.ok(files.length > 0, `./data/ holds the database: ${files}`);
    srv = await start({ cwd: dir, env: { DATABASE_URL: undefined } });
    const me = await request(srv.url, '/api/auth/me', { token: u.token });
    assert.equal(me.status, 200, me.text);
    const li = await request(srv.url, '/api/auth/login', { method: 'POST', body: { email: u.email, password: u.password } });
    assert.equal(li.status, 200, li.text);
  });
});
