'use strict';
// The Express application: security headers, CORS, JSON bodies, the API
// routes, and JSON errors.
const { isUtf8 } = require('node:buffer');
const express = require('express');
const helmet = require('helmet');
const cors = require('cors');
const cookieParser = require('cookie-parser');
const config = require('./config');
const db = require('./db');
const { version } = require('../package.json');
const { ApiError, validationFailed } = require('./errors');
const metrics = require('./metrics');

const app = express();
app.disable('x-powered-by');
if (config.trustProxy) app.set('trust proxy', true);

app.use(metrics.countRequests);
app.use(
  helmet({
    strictTransportSecurity: config.cookieSecure ? { maxAge: 31536000, includeSubDomains: true } : false,
  }),
);
// Only the origins of CLIENT_URL get CORS headers (with credentials).
app.use(
  cors({
    origin: (origin, callback) => callback(null, config.clientUrls.includes(origin) ? origin : false),
    credentials: true,
  }),
);
// Any other preflight: answered, without CORS headers.
app.use((req, res, next) => (req.method === 'OPTIONS' ? res.sendStatus(204) : next()));
app.use(cookieParser());

// JSON bodies only.
const hasBody = (req) =>
  req.headers['transfer-encoding'] !== undefined ||
  (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0');
app.use((req, res, next) => {
  if (hasBody(req) && !req.is('application/json')) {
    return next(new ApiError(415, 'unsupported_media_type', 'Content-Type must be application/json'));
  }
  next();
});
app.use(
  express.json({
    limit: config.bodyLimitBytes,
    strict: false,
    // Invalid UTF-8 is refused like invalid JSON, not decoded to U+FFFD.
    verify: (req, res, buf) => {
      if (!isUtf8(buf)) throw Object.assign(new Error('invalid UTF-8'), { type: 'entity.parse.failed' });
    },
  }),
);
app.use((req, res, next) => {
  if (req.body === undefined) req.body = {};
  else if (typeof req.body !== 'object' || req.body === null || Array.isArray(req.body)) {
    return next(validationFailed({ body: 'must be a JSON object' }, 'Request body must be a JSON object'));
  }
  next();
});

app.use('/api/auth', require('./routes/auth'));
app.use('/api/users', require('./routes/users'));
app.use('/api/messages', require('./routes/messages'));
app.use('/api/conversations', require('./routes/conversations'));

const startedAt = Date.now();
const ping = db.prepare('SELECT 1');
app.get('/api/health', (req, res) => {
  let ok = true;
  try {
    ping.get();
  } catch (err) {
    console.error('health check: database error:', err.message);
    ok = false;
  }
  res.status(ok ? 200 : 503).json({
    status: ok ? 'ok' : 'degraded',
    db: ok ? 'ok' : 'unreachable',
    uptimeSeconds: Math.floor((Date.now() - startedAt) / 1000),
    version,
  });
});

app.get('/metrics', (req, res) => {
  res.type('text/plain; version=0.0.4; charset=utf-8').send(metrics.render());
});

// Known paths and their methods, for 405 with Allow (anything else is a 404).
const ROUTES = [
  ['/api/auth/register', 'POST'],
  ['/api/auth/login', 'POST'],
  ['/api/auth/logout', 'POST'],
  ['/api/auth/me', 'GET'],
  ['/api/users', 'GET'],
  ['/api/messages/send', 'POST'],
  ['/api/messages/:id', 'GET'],
  ['/api/messages/:id/read', 'POST'],
  ['/api/conversations', 'GET'],
  ['/api/health', 'GET'],
  ['/metrics', 'GET'],
].map(([path, method]) => [new RegExp('^' + path.replace(/:id/g, '[^/]+') + '/?$', 'i'), method]);

app.use((req, res, next) => {
  const allowed = [];
  for (const [pattern, method] of ROUTES) {
    if (!pattern.test(req.path) || allowed.includes(method)) continue;
    allowed.push(method);
    if (method === 'GET') allowed.push('HEAD');
  }
  if (allowed.length === 0) return next(new ApiError(404, 'not_found', 'Route not found'));
  res.set('Allow', allowed.join(', '));
  next(new ApiError(405, 'method_not_allowed', 'Method not allowed'));
});

// Errors as {error, message[, fields]}; never a stack trace.
// eslint-disable-next-line no-unused-vars
app.use((err, req, res, next) => {
  let apiError = err;
  if (!(err instanceof ApiError)) {
    if (err.type === 'entity.too.large') {
      apiError = new ApiError(413, 'payload_too_large', 'Request body is too large');
    } else if (err.type === 'entity.parse.failed') {
      apiError = new ApiError(400, 'invalid_json', 'Request body is not valid JSON');
    } else if (err.type === 'charset.unsupported' || err.type === 'encoding.unsupported') {
      apiError = new ApiError(415, 'unsupported_media_type', 'Content-Type must be application/json');
    } else if (typeof err.status === 'number' && err.status >= 400 && err.status < 500) {
      apiError = new ApiError(400, 'bad_request', 'Malformed request');
    } else {
      console.error(err);
      apiError = new ApiError(500, 'internal', 'Internal server error');
    }
  }
  if (apiError.retryAfter) res.set('Retry-After', String(apiError.retryAfter));
  res.status(apiError.status).json(apiError);
});

module.exports = app;
