// Helpers around the official socket.io-client for the end-to-end tests:
// clients that never share a Manager, events collected into queues from the
// moment the socket exists, and waits with deadlines.

import { io } from 'socket.io-client';

/** A new client (never multiplexed); reconnection off unless asked for. */
export function newClient(url, opts = {}) {
  return io(url, { forceNew: true, reconnection: false, timeout: 10_000, ...opts });
}

/** Resolves with the args of the next `event` on `emitter`; rejects after `ms`. */
export function nextEvent(emitter, event, ms = 10_000, { failOn = [] } = {}) {
  return new Promise((resolve, reject) => {
    const handlers = [];
    const cleanup = () => {
      clearTimeout(timer);
      for (const [e, h] of handlers) emitter.off(e, h);
    };
    const timer = setTimeout(() => { cleanup(); reject(new Error(`no "${event}" within ${ms} ms`)); }, ms);
    const ok = (...args) => { cleanup(); resolve(args); };
    handlers.push([event, ok]);
    emitter.on(event, ok);
    for (const bad of failOn) {
      const h = (...args) => { cleanup(); reject(new Error(`"${bad}" before "${event}": ${args.map((a) => a?.message ?? JSON.stringify(a)).join(', ')}`)); };
      handlers.push([bad, h]);
      emitter.on(bad, h);
    }
  });
}

/** Collects every occurrence of the given events, in order, from now on. */
export class Inbox {
  constructor(socket, events) {
    this.items = [];
    this.waiters = new Set();
    for (const event of events) {
      socket.on(event, (...args) => {
        this.items.push({ event, args });
        for (const w of this.waiters) w();
      });
    }
  }

  /** The next collected `event` (others stay queued). */
  next(event, ms = 10_000) {
    return new Promise((resolve, reject) => {
      const check = () => {
        const i = this.items.findIndex((it) => it.event === event);
        if (i < 0) return false;
        const [it] = this.items.splice(i, 1);
        cleanup();
        resolve(it.args);
        return true;
      };
      const timer = setTimeout(() => { cleanup(); reject(new Error(`no "${event}" within ${ms} ms; have ${JSON.stringify(this.items.map((x) => x.event))}`)); }, ms);
      const cleanup = () => { clearTimeout(timer); this.waiters.delete(check); };
      if (!check()) this.waiters.add(check);
    });
  }
}

/** Creates a client and resolves {socket, inbox} once connected. */
export async function connectClient(url, opts = {}, events = ['message-back', 'auth']) {
  const socket = newClient(url, opts);
  const inbox = new Inbox(socket, events);
  try {
    await nextEvent(socket, 'connect', 8000, { failOn: ['connect_error'] });
  } catch (e) {
    socket.close();
    throw e;
  }
  return { socket, inbox };
}

/** Binary data as received (Buffer or ArrayBuffer or typed array) as an array of bytes. */
export function bytes(x) {
  if (x instanceof ArrayBuffer) return [...new Uint8Array(x)];
  if (ArrayBuffer.isView(x)) return [...new Uint8Array(x.buffer, x.byteOffset, x.byteLength)];
  throw new Error(`not binary: ${typeof x} ${JSON.stringify(x)}`);
}

export function isBinary(x) {
  return x instanceof ArrayBuffer || ArrayBuffer.isView(x);
}
