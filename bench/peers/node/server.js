#!/usr/bin/env node
'use strict';
// Chat backend: Express + Socket.IO + SQLite (better-sqlite3), one process.
const http = require('node:http');
const cookieParser = require('cookie-parser');
const { Server } = require('socket.io');
const config = require('./src/config');
const db = require('./src/db');
const app = require('./src/app');
const metrics = require('./src/metrics');
const Users = require('./src/models/users');
const { attachRealtime } = require('./src/realtime');

const server = http.createServer(app);
const io = new Server(server, {
  cors: config.clientUrls.length > 0 ? { origin: config.clientUrls, credentials: true } : undefined,
});
// The auth cookie of the handshake request, for sockets that send no token.
io.engine.use(cookieParser());

app.locals.realtime = attachRealtime(io);
metrics.setSocketCounter(() => io.of('/').sockets.size);

// Revocations are kept until the token would have expired anyway.
const purge = setInterval(() => Users.purgeRevokedTokens(Date.now()), 60 * 60 * 1000);
purge.unref();

server.on('error', (err) => {
  console.error(`cannot listen on ${config.host}:${config.port}: ${err.message}`);
  process.exit(1);
});

server.listen(config.port, config.host, () => {
  const { port } = server.address();
  console.log(`chat server listening on http://${config.host}:${port} (SQLite ${config.databasePath})`);
});

let stopping = false;
function shutdown(signal) {
  if (stopping) return;
  stopping = true;
  console.log(`${signal}: shutting down`);
  const force = setTimeout(() => {
    server.closeAllConnections();
  }, 10_000);
  force.unref();
  // Disconnects every socket (their lastSeen is stored), then closes the HTTP server.
  io.close(() => {
    clearTimeout(force);
    db.close();
    process.exit(0);
  });
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
