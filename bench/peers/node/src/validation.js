'use strict';
// Input rules shared by the HTTP routes and the socket events.
const { validationFailed } = require('./errors');

// Collects field problems; the first problem of a field wins.
class Problems {
  constructor() {
    this.fields = {};
  }

  add(field, problem) {
    if (!(field in this.fields)) this.fields[field] = problem;
  }

  has(field) {
    return field in this.fields;
  }

  get empty() {
    return Object.keys(this.fields).length === 0;
  }

  throwIfAny() {
    if (!this.empty) throw validationFailed(this.fields);
  }
}

// body[field] as a string; undefined when absent or null; a problem when of another type.
function stringField(body, field, problems) {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') {
    problems.add(field, 'must be a string');
    return undefined;
  }
  return value;
}

function codePoints(text) {
  let n = 0;
  for (const _ of text) n += 1;
  return n;
}

function normalizeName(raw) {
  if (!raw.isWellFormed()) return { problem: 'must be valid UTF-8' };
  const name = raw.trim();
  const length = codePoints(name);
  if (length < 1 || length > 64) return { problem: 'must be 1-64 characters' };
  if (/[\u0000-\u001f\u007f]/.test(name)) return { problem: 'must not contain control characters' };
  return { value: name };
}

function normalizeEmail(raw) {
  const invalid = { problem: 'must be a valid email address' };
  if (!raw.isWellFormed()) return invalid;
  const email = raw.trim().replace(/[A-Z]+/g, (s) => s.toLowerCase());
  const at = email.indexOf('@');
  if (email === '' || Buffer.byteLength(email) > 254 || at < 1 || at > 64 || email.indexOf('@', at + 1) !== -1) {
    return invalid;
  }
  if (/[\u0000-\u0020\u007f(),:;<>[\]\\"]/.test(email)) return invalid;
  const local = email.slice(0, at);
  const domain = email.slice(at + 1);
  if (local.startsWith('.') || local.endsWith('.') || local.includes('..')) return invalid;
  const labels = domain.split('.');
  if (labels.length < 2) return invalid;
  for (const label of labels) {
    if (label === '' || label.length > 63 || label.startsWith('-') || label.endsWith('-')) return invalid;
  }
  if (labels[labels.length - 1].length < 2) return invalid;
  return { value: email };
}

function checkPassword(raw) {
  if (raw.includes('\u0000')) return { problem: 'must not contain NUL characters' };
  const bytes = Buffer.byteLength(raw);
  if (bytes < 8 || bytes > 72) return { problem: 'must be 8-72 bytes' };
  return { value: raw };
}

// An integer query parameter in [min, max]; `fallback` when absent.
function intParam(query, name, min, max, fallback, problem, problems) {
  let raw = query[name];
  if (Array.isArray(raw)) raw = raw[0];
  if (raw === undefined) return fallback;
  if (typeof raw !== 'string' || !/^-?\d+$/.test(raw)) {
    problems.add(name, problem);
    return fallback;
  }
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    problems.add(name, problem);
    return fallback;
  }
  return value;
}

function stringParam(query, name) {
  const raw = query[name];
  if (Array.isArray(raw)) return typeof raw[0] === 'string' ? raw[0] : undefined;
  return typeof raw === 'string' ? raw : undefined;
}

const MAX_SKIP = 2 ** 53;

module.exports = {
  Problems,
  stringField,
  codePoints,
  normalizeName,
  normalizeEmail,
  checkPassword,
  intParam,
  stringParam,
  MAX_SKIP,
};
