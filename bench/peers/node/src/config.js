'use strict';
// Settings from the environment, with the defaults of a development setup.

function int(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value)) {
    console.error(`${name} must be an integer, got "${raw}"`);
    process.exit(2);
  }
  return value;
}

function flag(name) {
  const raw = (process.env[name] || '').toLowerCase();
  return raw === '1' || raw === 'true' || raw === 'yes';
}

// "7d", "12h", "30m", "45s" or plain seconds.
function durationSeconds(text) {
  const m = /^(\d+)\s*([smhd]?)$/.exec(String(text).trim());
  if (!m) {
    console.error(`JWT_EXPIRES_IN must look like 7d, 12h, 30m, 45s or a number of seconds, got "${text}"`);
    process.exit(2);
  }
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2]];
  return Number(m[1]) * unit;
}

// DATABASE_PATH, else the SQLite forms of DATABASE_URL (sqlite:PATH,
// sqlite://PATH), else ./data/chat.db.
function databasePath() {
  if (process.env.DATABASE_PATH) return process.env.DATABASE_PATH;
  const url = process.env.DATABASE_URL;
  if (url) {
    if (url.startsWith('sqlite://')) return url.slice('sqlite://'.length);
    if (url.startsWith('sqlite:')) return url.slice('sqlite:'.length);
    console.error('DATABASE_URL: only SQLite (sqlite:PATH) is supported here; or set DATABASE_PATH');
    process.exit(2);
  }
  return './data/chat.db';
}

const nodeEnv = process.env.NODE_ENV || 'development';
const jwtSecret = process.env.JWT_SECRET || 'dev-secret-change-me';
if (nodeEnv === 'production' && !process.env.JWT_SECRET) {
  console.error('JWT_SECRET is required when NODE_ENV=production');
  process.exit(2);
}

const bcryptRounds = int('BCRYPT_ROUNDS', 10);
if (bcryptRounds < 4 || bcryptRounds > 31) {
  console.error('BCRYPT_ROUNDS must be from 4 to 31');
  process.exit(2);
}

module.exports = {
  nodeEnv,
  port: int('PORT', 4000),
  host: process.env.HOST || '0.0.0.0',
  databasePath: databasePath(),
  jwtSecret,
  jwtLifetimeSeconds: durationSeconds(process.env.JWT_EXPIRES_IN || '7d'),
  cookieName: process.env.COOKIE_NAME || 'token',
  cookieSecure: flag('COOKIE_SECURE'),
  clientUrls: (process.env.CLIENT_URL || '').split(',').map((s) => s.trim()).filter(Boolean),
  bcryptRounds,
  trustProxy: flag('TRUST_PROXY'),
  bodyLimitBytes: int('BODY_LIMIT_BYTES', 102400),
  rateLimitDisabled: flag('RATE_LIMIT_DISABLED'),
  authPerMinute: int('RATE_LIMIT_AUTH_PER_MIN', 20),
  messagesPerSecond: int('RATE_LIMIT_MESSAGES_PER_SEC', 20),
  messagesBurst: int('RATE_LIMIT_MESSAGES_BURST', 50),
  maxSocketsPerUser: int('MAX_SOCKETS_PER_USER', 10),
};
