'use strict';
// JWT sessions: issued at register/login, accepted from `Authorization:
// Bearer` or the auth cookie, revoked at logout.
const crypto = require('node:crypto');
const jwt = require('jsonwebtoken');
const config = require('./config');
const Users = require('./models/users');
const { ApiError, unauthorized } = require('./errors');

// The secret as a KeyObject, made once: given a string, jsonwebtoken first
// tries to read it as a PEM public key on every call (an exception each time).
const secretKey = crypto.createSecretKey(Buffer.from(config.jwtSecret, 'utf8'));

function issueToken(userId) {
  return jwt.sign({ sub: userId, jti: crypto.randomBytes(12).toString('hex') }, secretKey, {
    algorithm: 'HS256',
    expiresIn: config.jwtLifetimeSeconds,
  });
}

const cookieOptions = () => ({
  httpOnly: true,
  sameSite: 'lax',
  path: '/',
  secure: config.cookieSecure,
});

function setAuthCookie(res, token) {
  res.cookie(config.cookieName, token, { ...cookieOptions(), maxAge: config.jwtLifetimeSeconds * 1000 });
}

function clearAuthCookie(res) {
  res.cookie(config.cookieName, '', { ...cookieOptions(), maxAge: 0 });
}

// The presented token: a Bearer header wins (an empty one is a bad token);
// a header of another scheme is ignored in favour of the cookie.
function tokenFrom(authorization, cookies) {
  const header = (authorization || '').trim();
  const [scheme, ...rest] = header.split(/[ \t]+/);
  if (scheme && scheme.toLowerCase() === 'bearer') return rest.join(' ') || 'invalid';
  const cookie = cookies && cookies[config.cookieName];
  return typeof cookie === 'string' && cookie !== '' ? cookie : null;
}

// { user, claims } for a valid token of an existing user, else throws 401.
function verifyToken(token) {
  let claims;
  try {
    claims = jwt.verify(token, secretKey, { algorithms: ['HS256'] });
  } catch {
    throw unauthorized();
  }
  if (typeof claims.sub !== 'string' || typeof claims.jti !== 'string' || typeof claims.exp !== 'number') {
    throw unauthorized();
  }
  const user = Users.findById(claims.sub);
  if (!user || Users.isTokenRevoked(claims.jti)) throw unauthorized();
  return { user, claims };
}

// Express middleware: req.user and req.claims, or 401.
function protect(req, res, next) {
  const token = tokenFrom(req.headers.authorization, req.cookies);
  if (!token) return next(new ApiError(401, 'unauthorized', 'Authentication required'));
  try {
    const { user, claims } = verifyToken(token);
    req.user = user;
    req.claims = claims;
    next();
  } catch (err) {
    next(err);
  }
}

module.exports = { issueToken, setAuthCookie, clearAuthCookie, tokenFrom, verifyToken, protect };
