// Contract checks shared by the integration tests.

import assert from 'node:assert/strict';
import { ID_RE, ISO_MS_RE, header } from './server.mjs';

const ERROR_CODES = new Set([
  'invalid_json', 'unsupported_media_type', 'validation_failed', 'invalid_credentials',
  'unauthorized', 'forbidden', 'not_found', 'method_not_allowed', 'conflict',
  'payload_too_large', 'rate_limited', 'internal',
]);

function describe(res) {
  return `${res.status} ${typeof res.body === 'string' ? res.body : JSON.stringify(res.body)}`;
}

/** Asserts `res` is an error response with the given status and code, in the contract's shape. */
export function assertError(res, status, code) {
  assert.equal(res.status, status, `expected ${status} ${code}, got ${describe(res)}`);
  const ct = header(res.headers, 'content-type') || '';
  assert.match(ct, /^application\/json/i, `error content-type: ${ct}`);
  assert.equal(typeof res.body, 'object', `error body is not JSON: ${res.text}`);
  assert.ok(res.body !== null && !Array.isArray(res.body), `error body is not an object: ${res.text}`);
  assert.ok(ERROR_CODES.has(res.body.error), `unknown error code ${res.body.error}`);
  assert.equal(res.body.error, code, `error code: ${res.text}`);
  assert.equal(typeof res.body.message, 'string', `message must be a string: ${res.text}`);
  assert.ok(res.body.message.length > 0, 'message must not be empty');
  const allowed = code === 'validation_failed' ? ['error', 'message', 'fields'] : ['error', 'message'];
  for (const k of Object.keys(res.body)) {
    assert.ok(allowed.includes(k), `unexpected key ${k} in error body ${res.text}`);
  }
  assert.doesNotMatch(res.text, /\n\s+at /, 'no stack traces');
  if (code === 'validation_failed') {
    assert.equal(typeof res.body.fields, 'object', `validation error without fields: ${res.text}`);
    assert.ok(res.body.fields !== null && !Array.isArray(res.body.fields));
    for (const [k, v] of Object.entries(res.body.fields)) {
      assert.equal(typeof v, 'string', `fields.${k} must be a string`);
    }
  }
  return res.body;
}

/** Asserts a validation error naming exactly the given fields (at least; `exact` for only). */
export function assertValidation(res, fields, { exact = false } = {}) {
  const body = assertError(res, 400, 'validation_failed');
  for (const f of fields) {
    assert.ok(Object.hasOwn(body.fields, f), `fields should name ${f}: ${res.text}`);
  }
  if (exact) assert.deepEqual(Object.keys(body.fields).sort(), [...fields].sort(), `fields: ${res.text}`);
  return body;
}

export function assertSecurityHeaders(headers, { hsts = false } = {}) {
  assert.equal(header(headers, 'x-content-type-options'), 'nosniff');
  assert.equal((header(headers, 'x-frame-options') || '').toUpperCase(), 'SAMEORIGIN');
  assert.equal(header(headers, 'referrer-policy'), 'no-referrer');
  const csp = header(headers, 'content-security-policy');
  assert.ok(csp && csp.length > 0, 'Content-Security-Policy must be present');
  assert.equal(header(headers, 'x-powered-by'), null, 'no X-Powered-By');
  const sts = header(headers, 'strict-transport-security');
  if (hsts) {
    assert.ok(sts, 'Strict-Transport-Security must be present with COOKIE_SECURE=true');
    assert.match(sts, /max-age=\d+/i);
  } else {
    assert.equal(sts, null, 'Strict-Transport-Security only with COOKIE_SECURE=true');
  }
}

/** Asserts the exact User shape of the contract. */
export function assertUser(user, { email, name, online } = {}) {
  assert.equal(typeof user, 'object');
  const keys = ['_id', 'name', 'email', 'avatar', 'createdAt', 'lastSeen'];
  if (online !== undefined) keys.push('online');
  assert.deepEqual(Object.keys(user).sort(), keys.sort(), `user keys: ${JSON.stringify(user)}`);
  assert.match(user._id, ID_RE);
  assert.equal(typeof user.name, 'string');
  if (name !== undefined) assert.equal(user.name, name);
  if (email !== undefined) assert.equal(user.email, email);
  assert.equal(user.email, user.email.toLowerCase());
  assert.ok(user.avatar === null || typeof user.avatar === 'string');
  assert.match(user.createdAt, ISO_MS_RE);
  assert.ok(user.lastSeen === null || ISO_MS_RE.test(user.lastSeen), `lastSeen: ${user.lastSeen}`);
  if (online !== undefined) assert.equal(user.online, online);
  const text = JSON.stringify(user).toLowerCase();
  assert.ok(!text.includes('password') && !text.includes('$2b$') && !text.includes('hash'), `password material in ${JSON.stringify(user)}`);
}

/** Asserts the list of values of a comma-separated header contains each of `items` (case-insensitive). */
export function assertListHeader(value, items, name = 'header') {
  assert.ok(value, `${name} missing`);
  const have = value.split(',').map((s) => s.trim().toUpperCase());
  for (const i of items) assert.ok(have.includes(i.toUpperCase()), `${name} "${value}" should contain ${i}`);
}
