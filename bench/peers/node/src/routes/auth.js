'use strict';
const express = require('express');
const bcrypt = require('bcryptjs');
const config = require('../config');
const Users = require('../models/users');
const { newObjectId } = require('../objectId');
const { ApiError } = require('../errors');
const { RateLimiter } = require('../rateLimit');
const { Problems, stringField, normalizeName, normalizeEmail, checkPassword } = require('../validation');
const { userJSON } = require('../serialize');
const { issueToken, setAuthCookie, clearAuthCookie, tokenFrom, verifyToken, protect } = require('../auth');

const router = express.Router();

// Register and login attempts per client IP.
const attempts = new RateLimiter({
  perSecond: config.authPerMinute / 60,
  burst: config.authPerMinute,
  disabled: config.rateLimitDisabled,
});

function limitAttempts(req, res, next) {
  const { allowed, retryAfter } = attempts.take(req.ip);
  if (allowed) return next();
  const err = new ApiError(429, 'rate_limited', 'Too many attempts, try again later');
  err.retryAfter = retryAfter;
  next(err);
}

// Compared against when the email is unknown, so that both failures cost the same.
const DUMMY_HASH = bcrypt.hashSync('not the password of anyone', config.bcryptRounds);

function sendSession(res, status, user) {
  const token = issueToken(user.id);
  setAuthCookie(res, token);
  res.status(status).json({ user: userJSON(user), token });
}

router.post('/register', limitAttempts, async (req, res) => {
  const body = req.body;
  const problems = new Problems();
  const raw = {
    name: stringField(body, 'name', problems),
    email: stringField(body, 'email', problems),
    password: stringField(body, 'password', problems),
  };
  const rules = { name: normalizeName, email: normalizeEmail, password: checkPassword };
  const input = {};
  for (const field of ['name', 'email', 'password']) {
    if (problems.has(field)) continue;
    if (raw[field] === undefined) {
      problems.add(field, 'is required');
      continue;
    }
    const { value, problem } = rules[field](raw[field]);
    if (problem) problems.add(field, problem);
    else input[field] = value;
  }
  problems.throwIfAny();

  const passwordHash = await bcrypt.hash(input.password, config.bcryptRounds);
  let user;
  try {
    user = Users.create({ id: newObjectId(), name: input.name, email: input.email, passwordHash, createdAt: Date.now() });
  } catch (err) {
    if (err.code === 'SQLITE_CONSTRAINT_UNIQUE') throw new ApiError(409, 'conflict', 'Email is already registered');
    throw err;
  }
  sendSession(res, 201, user);
});

router.post('/login', limitAttempts, async (req, res) => {
  const problems = new Problems();
  const email = stringField(req.body, 'email', problems);
  const password = stringField(req.body, 'password', problems);
  if (!email) problems.add('email', 'is required');
  if (!password) problems.add('password', 'is required');
  problems.throwIfAny();

  const invalid = new ApiError(401, 'invalid_credentials', 'Invalid email or password');
  if (Buffer.byteLength(password) > 72) throw invalid;
  const normalized = normalizeEmail(email).value;
  const user = normalized ? Users.findByEmailWithPassword(normalized) : undefined;
  const ok = await bcrypt.compare(password, user ? user.password_hash : DUMMY_HASH);
  if (!ok || !user) throw invalid;
  sendSession(res, 200, user);
});

// Authentication optional: a valid token is revoked (and its sockets
// disconnected); the cookie is cleared in any case.
router.post('/logout', (req, res) => {
  const token = tokenFrom(req.headers.authorization, req.cookies);
  if (token) {
    let session = null;
    try {
      session = verifyToken(token);
    } catch {
      // A bad or expired token: nothing to revoke.
    }
    if (session) {
      Users.revokeToken(session.claims.jti, session.claims.exp * 1000);
      req.app.locals.realtime.disconnectToken(session.user.id, session.claims.jti);
    }
  }
  clearAuthCookie(res);
  res.json({ message: 'Logged out' });
});

router.get('/me', protect, (req, res) => {
  res.json(userJSON(req.user));
});

module.exports = router;
