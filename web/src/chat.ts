// The client's state and its socket: one Chat per signed-in user.
//
// Guarantees the UI relies on:
// - A conversation's messages are kept sorted by seq and unique by _id (the
//   server delivers at least once; replays after a reconnect repeat).
// - After every (re)connect, each loaded conversation is filled from its
//   highest seq (afterSeq) and the conversation list is reloaded, so
//   messages that arrived while the page was offline appear once, in order.
// - A message sent is shown at once (pending, keyed by its tempId) and sent
//   again with the same tempId after a reconnect until the server acks it;
//   the server's tempId dedupe makes the retry safe.
import { io, type Socket } from 'socket.io-client';
import { api } from './api';
import { applyDelivered, applyRead, lastSeq, leavesGap, mergeMessages, Outbox, pendingMessage, type LocalMessage } from './state';
import type { Conversation, Message, User } from './types';

export type { LocalMessage };

interface Thread {
  messages: LocalMessage[];
  complete: boolean; // the oldest message is loaded
  loading: boolean;
}

const PAGE = 30;
const TYPING_SHOWN_MS = 6000;
// A group's receipts shown at once from the events are a page's own count
// (it knows only the readers it saw, not those counted before it loaded):
// this long after the last receipt event, the loaded messages are read
// again from the server, whose counts are exact.
const RECEIPT_REFRESH_MS = 400;
const REFRESH_PAGE = 200;

export class Chat {
  readonly me: User;
  connected = false;
  users: User[] = [];
  online = new Set<string>();
  conversations: Conversation[] = [];
  threads = new Map<string, Thread>();
  typing = new Map<string, Map<string, number>>(); // conversation -> user -> until
  removedFrom = new Set<string>(); // groups this user was removed from
  activeId: string | null = null;
  version = 0;

  private socket: Socket;
  private listeners = new Set<() => void>();
  private outbox = new Outbox<{ body: Record<string, string>; convKey: string }>();
  private names = new Map<string, string>();
  private typingTimer = 0;
  private search = '';
  private receiptRefresh = new Map<string, number>(); // conversation -> timer
  // One refresh of a conversation at a time, and another after it when
  // events came meanwhile: two in flight could answer out of order, the
  // older view last.
  private refreshing = new Set<string>();
  private refreshAgain = new Set<string>();

  constructor(me: User) {
    this.me = me;
    this.names.set(me._id, me.name);
    // Same origin: the handshake carries the session cookie.
    this.socket = io({ withCredentials: true });
    this.wire();
  }

  subscribe(fn: () => void) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private changed() {
    this.version++;
    for (const fn of this.listeners) fn();
  }

  close() {
    this.socket.disconnect();
    window.clearTimeout(this.typingTimer);
    this.listeners.clear();
  }

  nameOf(id: string) {
    return id === this.me._id ? 'You' : (this.names.get(id) ?? 'Someone');
  }

  title(c: Conversation) {
    return c.type === 'group' ? (c.name ?? 'Group') : (c.peer?.name ?? 'Direct');
  }

  // --- loading

  async loadUsers(search = this.search) {
    this.search = search;
    const users = await api.users(search);
    for (const u of users) {
      this.names.set(u._id, u.name);
      if (u.online) this.online.add(u._id);
    }
    this.users = users;
    this.changed();
  }

  async loadConversations() {
    const list = await api.conversations();
    for (const c of list) if (c.peer) this.names.set(c.peer._id, c.peer.name);
    // Keep the unread count at zero for the conversation on screen.
    for (const c of list) if (c._id === this.activeId && this.visible()) c.unreadCount = 0;
    this.conversations = list;
    this.changed();
  }

  thread(id: string): Thread {
    let t = this.threads.get(id);
    if (!t) {
      t = { messages: [], complete: false, loading: false };
      this.threads.set(id, t);
    }
    return t;
  }

  // Loads the page before the oldest message loaded (the first page when
  // none is). `id`: a conversation id, or a peer's user id for a direct
  // conversation that may not exist yet.
  async loadOlder(id: string) {
    const t = this.thread(id);
    if (t.loading || t.complete) return;
    t.loading = true;
    this.changed();
    try {
      const oldest = t.messages.find((m) => !m.pending);
      const page = await api.history(id, { limit: PAGE, before: oldest?._id });
      this.merge(id, page);
      if (page.length < PAGE) t.complete = true;
    } finally {
      t.loading = false;
      this.changed();
    }
  }

  // Everything after the highest seq loaded, page by page.
  private async fillGap(id: string) {
    const t = this.threads.get(id);
    if (!t) return;
    for (;;) {
      const last = lastSeq(t.messages);
      if (last === 0 && !t.complete) return; // nothing loaded yet: loadOlder will
      const page = await api.history(id, { afterSeq: last, limit: 200 });
      this.merge(id, page);
      if (page.length < 200) break;
    }
    this.changed();
  }

  private merge(id: string, incoming: Message[]) {
    const t = this.thread(id);
    for (const m of incoming) this.names.has(m.from) || this.names.set(m.from, 'Someone');
    const { messages, confirmed } = mergeMessages(t.messages, incoming);
    t.messages = messages;
    for (const tempId of confirmed) this.outbox.settle(tempId);
  }

  // --- the conversation on screen

  async open(id: string | null) {
    this.activeId = id;
    this.changed();
    if (!id) return;
    const t = this.thread(id);
    if (t.messages.length === 0) await this.loadOlder(id);
    this.markRead();
  }

  visible() {
    return document.visibilityState === 'visible';
  }

  markRead() {
    const id = this.activeId;
    const c = this.conversations.find((x) => x._id === id);
    if (!c || !this.visible() || !this.connected) return;
    const unread = (this.threads.get(c._id)?.messages ?? []).some(
      (m) => m.from !== this.me._id && !m.pending && !m.read,
    );
    if (c.unreadCount === 0 && !unread) return;
    c.unreadCount = 0;
    this.socket.emit('message:read', { conversationId: c._id });
    for (const m of this.threads.get(c._id)?.messages ?? []) {
      if (m.from !== this.me._id) m.read = true;
    }
    this.changed();
  }

  // --- sending

  send(id: string, text: string) {
    const tempId = `t${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
    const conv = this.conversations.find((c) => c._id === id);
    const body: Record<string, string> = conv ? { conversationId: id, text, tempId } : { to: id, text, tempId };
    const t = this.thread(id);
    t.messages.push(
      pendingMessage({ from: this.me._id, conversationId: conv ? id : '', text, tempId, createdAt: new Date().toISOString() }),
    );
    this.outbox.add(tempId, { body, convKey: id });
    this.setTyping(id, false);
    this.changed();
    this.flush(tempId);
  }

  retry(tempId: string) {
    for (const t of this.threads.values()) {
      const m = t.messages.find((x) => x.tempId === tempId);
      if (m) m.failed = undefined;
    }
    this.changed();
    this.flush(tempId);
  }

  private flush(tempId: string) {
    const item = this.outbox.get(tempId);
    if (!item || !this.connected) return; // sent again on the next connect
    this.socket
      .timeout(10000)
      .emit('message:send', item.body, (err: Error | null, res?: { ok: boolean; message?: Message | string; error?: string }) => {
        if (err || !res) return; // no answer: retried after the next connect
        if (!this.outbox.has(tempId)) return;
        if (res.ok && typeof res.message === 'object') {
          this.accepted(item.convKey, res.message);
        } else {
          this.outbox.settle(tempId);
          const m = this.thread(item.convKey).messages.find((x) => x.tempId === tempId);
          if (m) m.failed = typeof res.message === 'string' ? res.message : (res.error ?? 'Not sent');
          this.changed();
        }
      });
  }

  private async accepted(convKey: string, m: Message) {
    this.merge(convKey, [m]);
    if (convKey !== m.conversationId) {
      // The first message to a user: the direct conversation now exists.
      const t = this.threads.get(convKey)!;
      this.threads.delete(convKey);
      const merged = this.thread(m.conversationId);
      merged.messages = t.messages.map((x) => ({ ...x, conversationId: m.conversationId }));
      merged.complete = t.complete;
      await this.upsertConversation(m.conversationId);
      if (this.activeId === convKey) this.activeId = m.conversationId;
    }
    this.bump(m);
    this.changed();
  }

  // --- typing

  setTyping(id: string, isTyping: boolean) {
    const conv = this.conversations.find((c) => c._id === id);
    if (!conv || !this.connected) return;
    window.clearTimeout(this.typingTimer);
    if (isTyping) this.typingTimer = window.setTimeout(() => this.setTyping(id, false), 3000);
    this.socket.emit('typing', { conversationId: id, isTyping });
  }

  typers(id: string) {
    const now = Date.now();
    return [...(this.typing.get(id) ?? new Map<string, number>())]
      .filter(([, until]) => until > now)
      .map(([user]) => this.nameOf(user));
  }

  // --- groups

  async createGroup(name: string, memberIds: string[]) {
    const c = await api.createGroup(name, memberIds);
    this.upsert(c);
    return c;
  }

  async rename(id: string, name: string) {
    this.upsert(await api.rename(id, name));
  }

  async addMembers(id: string, userIds: string[]) {
    this.upsert(await api.addMembers(id, userIds));
  }

  async removeMember(id: string, userId: string) {
    await api.removeMember(id, userId);
    if (userId === this.me._id) this.dropConversation(id);
    else await this.upsertConversation(id);
  }

  private upsert(c: Conversation) {
    if (!c.participants.includes(this.me._id)) return this.dropConversation(c._id);
    // Added back to a group: what was sent while out is not pending for
    // this user (it counts from the new join), so it is read from history.
    if (this.removedFrom.delete(c._id) && this.threads.has(c._id)) void this.fillGap(c._id).catch(() => undefined);
    const i = this.conversations.findIndex((x) => x._id === c._id);
    if (i >= 0) this.conversations[i] = c;
    else this.conversations.unshift(c);
    this.changed();
  }

  private dropConversation(id: string) {
    this.conversations = this.conversations.filter((x) => x._id !== id);
    this.removedFrom.add(id);
    this.changed();
  }

  private async upsertConversation(id: string) {
    try {
      this.upsert(await api.conversation(id));
    } catch {
      this.dropConversation(id);
    }
  }

  // A new message moves its conversation to the top with it as the last one.
  private bump(m: Message) {
    const i = this.conversations.findIndex((c) => c._id === m.conversationId);
    if (i < 0) return;
    const c = this.conversations[i];
    if (!c.lastMessage || c.lastMessage.seq <= m.seq) {
      c.lastMessage = m;
      c.updatedAt = m.createdAt;
    }
    this.conversations.splice(i, 1);
    this.conversations.unshift(c);
  }

  // --- the socket

  private wire() {
    const s = this.socket;
    s.on('connect', () => this.onConnect());
    s.on('disconnect', () => {
      this.connected = false;
      this.changed();
    });
    s.on('users:online', ({ userIds }: { userIds: string[] }) => {
      this.online = new Set(userIds);
      this.changed();
    });
    s.on('user:online', ({ userId }: { userId: string }) => {
      this.online.add(userId);
      // Someone new (just registered): the people list learns of them.
      if (!this.names.has(userId)) void this.loadUsers().catch(() => undefined);
      this.changed();
    });
    s.on('user:offline', ({ userId }: { userId: string }) => {
      this.online.delete(userId);
      this.changed();
    });
    s.on('message:received', ({ message }: { message: Message }, ack?: () => void) => {
      ack?.();
      this.received(message);
    });
    s.on('message:delivered', (e: { messageId: string; conversationId: string; deliveredAt: string; userId?: string }) =>
      this.delivered(e),
    );
    s.on('message:read', (e: { conversationId: string; readerId: string; upTo: string; readAt: string }) =>
      this.read(e),
    );
    s.on('typing', (e: { from: string; conversationId: string; isTyping: boolean }) => {
      let m = this.typing.get(e.conversationId);
      if (!m) this.typing.set(e.conversationId, (m = new Map()));
      if (e.isTyping) {
        m.set(e.from, Date.now() + TYPING_SHOWN_MS);
        window.setTimeout(() => this.changed(), TYPING_SHOWN_MS + 50);
      } else {
        m.delete(e.from);
      }
      this.changed();
    });
    s.on('conversation:updated', ({ conversation }: { conversation: Conversation }) =>
      this.upsert(conversation),
    );
    document.addEventListener('visibilitychange', () => this.markRead());
  }

  private async onConnect() {
    this.connected = true;
    this.changed();
    try {
      await this.loadConversations();
      await Promise.all([...this.threads.keys()].map((id) => this.fillGap(id)));
    } catch {
      // The next reconnect tries again.
    }
    for (const tempId of this.outbox.waiting()) this.flush(tempId);
    this.markRead();
  }

  private received(m: Message) {
    const known = this.conversations.find((c) => c._id === m.conversationId);
    if (!known) {
      // A new conversation: its row (with the count) comes from the server.
      void this.upsertConversation(m.conversationId);
    }
    const t = this.threads.get(m.conversationId);
    if (t) {
      const dup = t.messages.some((x) => x._id === m._id);
      const last = lastSeq(t.messages);
      this.merge(m.conversationId, [m]);
      if (leavesGap(last, m.seq)) void this.fillGap(m.conversationId);
      if (dup) return this.changed();
    }
    if (known) {
      const isNew = !known.lastMessage || known.lastMessage.seq < m.seq;
      this.bump(m);
      const reading = this.activeId === m.conversationId && this.visible();
      if (m.from !== this.me._id && isNew && !reading) known.unreadCount++;
    }
    this.typing.get(m.conversationId)?.delete(m.from);
    this.changed();
    if (this.activeId === m.conversationId) this.markRead();
  }

  private delivered(e: { messageId: string; conversationId: string; deliveredAt: string; userId?: string }) {
    const conv = this.conversations.find((c) => c._id === e.conversationId);
    const m = this.threads.get(e.conversationId)?.messages.find((x) => x._id === e.messageId);
    const targets = [m, conv?.lastMessage?._id === e.messageId ? conv.lastMessage : undefined];
    const group = conv?.type === 'group';
    const others = (conv?.participants.length ?? 2) - 1;
    for (const x of targets) if (x) applyDelivered(x, { userId: e.userId, deliveredAt: e.deliveredAt, group, others });
    if (group) this.refreshReceiptsSoon(e.conversationId);
    this.changed();
  }

  private read(e: { conversationId: string; readerId: string; upTo: string; readAt: string }) {
    const conv = this.conversations.find((c) => c._id === e.conversationId);
    const msgs: LocalMessage[] = this.threads.get(e.conversationId)?.messages ?? [];
    const upTo = msgs.find((x) => x._id === e.upTo)?.seq ?? conv?.lastMessage?.seq ?? 0;
    const others = (conv?.participants.length ?? 2) - 1;
    const all = conv?.lastMessage ? [...msgs, conv.lastMessage as LocalMessage] : msgs;
    applyRead(all, { me: this.me._id, readerId: e.readerId, upTo, readAt: e.readAt, group: conv?.type === 'group', others });
    if (conv?.type === 'group') this.refreshReceiptsSoon(e.conversationId);
    this.changed();
  }

  private refreshReceiptsSoon(id: string) {
    if (this.receiptRefresh.has(id)) window.clearTimeout(this.receiptRefresh.get(id));
    this.receiptRefresh.set(
      id,
      window.setTimeout(() => {
        this.receiptRefresh.delete(id);
        if (this.refreshing.has(id)) {
          this.refreshAgain.add(id);
          return;
        }
        this.refreshing.add(id);
        void this.refreshReceipts(id)
          .catch(() => undefined)
          .finally(() => {
            this.refreshing.delete(id);
            if (this.refreshAgain.delete(id)) this.refreshReceiptsSoon(id);
          });
      }, RECEIPT_REFRESH_MS),
    );
  }

  // The loaded messages of a group again from the server (afterSeq pages
  // from the oldest loaded), whose delivered/read counts replace the ones
  // the page worked out from the events it saw.
  private async refreshReceipts(id: string) {
    const t = this.threads.get(id);
    const stored = t?.messages.filter((m) => !m.pending) ?? [];
    if (!t || stored.length === 0) return;
    const last = stored[stored.length - 1].seq;
    let after = stored[0].seq - 1;
    while (after < last) {
      const page = await api.history(id, { afterSeq: after, limit: REFRESH_PAGE });
      if (page.length === 0) break;
      this.merge(id, page);
      const fresh = new Set(page.map((m) => m._id));
      for (const m of t.messages) {
        if (fresh.has(m._id)) m.readers = m.deliverees = undefined;
      }
      after = page[page.length - 1].seq;
      if (page.length < REFRESH_PAGE) break;
    }
    const conv = this.conversations.find((c) => c._id === id);
    const newest = t.messages.find((m) => m._id === conv?.lastMessage?._id);
    if (conv && newest) conv.lastMessage = newest;
    this.changed();
  }
}
