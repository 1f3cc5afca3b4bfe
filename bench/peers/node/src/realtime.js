'use strict';
// Socket.IO: token auth on connect, live delivery with acks, receipts,
// typing and presence.
const config = require('./config');
const Users = require('./models/users');
const Messages = require('./models/messages');
const chat = require('./chat');
const { ApiError } = require('./errors');
const { RateLimiter } = require('./rateLimit');
const { isObjectId } = require('./objectId');
const { Problems, stringField } = require('./validation');
const { iso, messageJSON } = require('./serialize');
const { tokenFrom, verifyToken } = require('./auth');

// How long a device has to ack a message:received; without an ack the
// message stays pending and is sent again on the next connect.
const DELIVERY_ACK_TIMEOUT_MS = 30_000;
// Pending messages sent on one connect; the rest come on the next.
const MAX_REPLAY = 5000;

const isObject = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);

function errorAck(err) {
  if (err instanceof ApiError) {
    const ack = { ok: false, error: err.code, message: err.message };
    if (err.fields) ack.fields = err.fields;
    return ack;
  }
  console.error(err);
  return { ok: false, error: 'internal', message: 'Internal server error' };
}

// Wraps an event handler: the ack, when the client asked for one, gets the
// handler's result or the error.
function withAck(handler) {
  return (...args) => {
    const ack = typeof args[args.length - 1] === 'function' ? args.pop() : null;
    let result;
    try {
      result = handler(args[0]);
    } catch (err) {
      result = errorAck(err);
    }
    if (ack && result !== undefined) ack(result);
  };
}

function attachRealtime(io) {
  // userId -> the user's connected sockets.
  const socketsByUser = new Map();
  const typingLimiter = new RateLimiter({ perSecond: 5, burst: 10, disabled: config.rateLimitDisabled });

  const socketsOf = (userId) => socketsByUser.get(userId) ?? [];

  function emitToUser(userId, event, payload) {
    for (const socket of socketsOf(userId)) socket.emit(event, payload);
  }

  // message:received with an ack. A recipient device's ack marks the message
  // delivered and tells the sender; the sender's own devices ack too, but
  // that is no receipt.
  function deliver(socket, row, message) {
    const onAck = (err) => {
      if (err || row.to_id !== socket.data.user.id) return;
      try {
        const at = Date.now();
        if (Messages.markDelivered(row.id, row.to_id, at)) {
          emitToUser(row.from_id, 'message:delivered', {
            messageId: row.id,
            conversationId: row.conversation_id,
            deliveredAt: iso(at),
          });
        }
      } catch (e) {
        console.error('marking a message delivered failed:', e);
      }
    };
    socket.timeout(DELIVERY_ACK_TIMEOUT_MS).emit('message:received', { message }, onAck);
  }

  chat.chatEvents.on('message', (row, originSocketId) => {
    const message = messageJSON(row);
    for (const socket of socketsOf(row.to_id)) deliver(socket, row, message);
    for (const socket of socketsOf(row.from_id)) {
      if (socket.id !== originSocketId) deliver(socket, row, message);
    }
  });

  chat.chatEvents.on('read', ({ conversationId, readerId, upTo, readAt, peerId }) => {
    emitToUser(peerId, 'message:read', { conversationId, readerId, upTo, readAt });
  });

  // The token: auth.token, else a Bearer header, else the auth cookie.
  io.use((socket, next) => {
    const { auth, headers } = socket.handshake;
    const token =
      isObject(auth) && typeof auth.token === 'string' && auth.token !== ''
        ? auth.token
        : tokenFrom(headers.authorization, socket.request.cookies);
    if (!token) return next(new Error('unauthorized'));
    let session;
    try {
      session = verifyToken(token);
    } catch {
      return next(new Error('unauthorized'));
    }
    const open = socketsByUser.get(session.user.id);
    if (open && open.size >= config.maxSocketsPerUser) return next(new Error('too many connections'));
    socket.data.user = session.user;
    socket.data.claims = session.claims;
    next();
  });

  io.on('connection', (socket) => {
    const { user, claims } = socket.data;
    const userId = user.id;

    let sockets = socketsByUser.get(userId);
    if (!sockets) {
      sockets = new Set();
      socketsByUser.set(userId, sockets);
      socket.broadcast.emit('user:online', { userId });
    }
    sockets.add(socket);
    socket.emit('users:online', { userIds: [...socketsByUser.keys()] });

    // Messages no device of this user has acknowledged yet, oldest first.
    try {
      for (const row of Messages.undeliveredTo(userId, MAX_REPLAY)) deliver(socket, row, messageJSON(row));
    } catch (err) {
      console.error('reading pending messages failed:', err);
    }

    // The token's expiry ends the socket too.
    const left = claims.exp * 1000 - Date.now();
    const expiry = left < 2 ** 31 ? setTimeout(() => socket.disconnect(true), Math.max(0, left) + 1) : null;

    socket.on(
      'message:send',
      withAck((payload) => {
        const { message } = chat.sendMessage(userId, isObject(payload) ? payload : {}, socket.id);
        return { ok: true, message: messageJSON(message) };
      }),
    );

    socket.on(
      'message:read',
      withAck((payload) => {
        let conversationId = '';
        let upTo;
        if (isObject(payload)) {
          if (typeof payload.conversationId === 'string') conversationId = payload.conversationId;
          const problems = new Problems();
          upTo = stringField(payload, 'upTo', problems);
          problems.throwIfAny();
        }
        return { ok: true, ...chat.markRead(userId, conversationId, upTo) };
      }),
    );

    socket.on('typing', (payload) => {
      if (!isObject(payload)) return;
      const { to } = payload;
      if (!isObjectId(to) || to === userId) return;
      if (!typingLimiter.take(userId).allowed) return;
      const conversation = Messages.findConversationBetween(userId, to);
      emitToUser(to, 'typing', {
        from: userId,
        conversationId: conversation ? conversation.id : null,
        isTyping: payload.isTyping === true,
      });
    });

    // Kept for older clients: the socket is always its token's user.
    socket.on(
      'user:connect',
      withAck((payload) =>
        isObject(payload) && payload.userId === userId ? { ok: true } : { ok: false, error: 'forbidden' },
      ),
    );

    socket.on('disconnect', () => {
      if (expiry) clearTimeout(expiry);
      sockets.delete(socket);
      if (sockets.size > 0) return;
      socketsByUser.delete(userId);
      const lastSeen = Date.now();
      try {
        Users.setLastSeen(userId, lastSeen);
      } catch (err) {
        console.error('storing lastSeen failed:', err);
      }
      io.emit('user:offline', { userId, lastSeen: iso(lastSeen) });
    });
  });

  return {
    isOnline: (userId) => socketsByUser.has(userId),
    // Logout: the sockets authenticated with that token go too.
    disconnectToken(userId, jti) {
      for (const socket of [...socketsOf(userId)]) {
        if (socket.data.claims.jti === jti) socket.disconnect(true);
      }
    },
  };
}

module.exports = { attachRealtime };
