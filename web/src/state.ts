// The pure part of the client's state: how a conversation's messages are
// merged, ordered and checked for gaps, and the outbox of sends not yet
// acknowledged. No DOM, no socket, no clock: chat.ts does the I/O and calls
// these; web/test/ runs them under node:test.
import type { Message } from './types';

export interface LocalMessage extends Message {
  pending?: boolean; // not yet acked by the server
  failed?: string; // refused by the server (validation, rate limit)
  readers?: string[]; // group: members seen reading it (message:read)
  deliverees?: string[]; // group: members seen receiving it (message:delivered)
}

/**
 * Merges messages from the server into a conversation's list, which comes
 * back sorted by seq with the pending sends last (in the order they were
 * made), and unique by _id: a message already held is replaced (the server's
 * copy is newer), keeping the receipts seen for it; a pending send whose
 * tempId comes back is replaced by the stored message. Returns the tempIds
 * so confirmed, which leave the outbox.
 */
export function mergeMessages(list: LocalMessage[], incoming: Message[]): { messages: LocalMessage[]; confirmed: string[] } {
  const messages = [...list];
  const confirmed: string[] = [];
  for (const m of incoming) {
    const i = messages.findIndex((x) => x._id === m._id || (x.pending && m.tempId && x.tempId === m.tempId));
    if (i >= 0) {
      const old = messages[i];
      messages[i] = { ...m, readers: old.readers, deliverees: old.deliverees };
      if (old.pending && old.tempId) confirmed.push(old.tempId);
    } else {
      messages.push(m);
    }
  }
  // Stable: pending sends keep their order among themselves.
  messages.sort((a, b) => (a.pending ? 1 : 0) - (b.pending ? 1 : 0) || a.seq - b.seq);
  return { messages, confirmed };
}

/** The highest seq among the stored (not pending) messages; 0 when none. */
export function lastSeq(messages: LocalMessage[]) {
  let last = 0;
  for (const m of messages) if (!m.pending && m.seq > last) last = m.seq;
  return last;
}

/**
 * Whether a message with this seq, arriving after `last` (lastSeq before it
 * arrived), leaves a gap the client must fill with afterSeq=last. Nothing
 * loaded (last 0): no gap to fill, the first page load covers it.
 */
export function leavesGap(last: number, seq: number) {
  return last > 0 && seq > last + 1;
}

/** The seqs missing between the oldest and the newest stored message (a check for tests and debugging). */
export function missingSeqs(messages: LocalMessage[]) {
  const seqs = messages.filter((m) => !m.pending).map((m) => m.seq);
  if (seqs.length === 0) return [];
  const have = new Set(seqs);
  const missing: number[] = [];
  for (let s = Math.min(...seqs); s < Math.max(...seqs); s++) if (!have.has(s)) missing.push(s);
  return missing;
}

/** A send as the page shows it before the server has stored it. */
export function pendingMessage(p: { from: string; conversationId: string; text: string; tempId: string; createdAt: string }): LocalMessage {
  return {
    _id: `temp-${p.tempId}`,
    conversationId: p.conversationId,
    seq: Number.MAX_SAFE_INTEGER,
    from: p.from,
    to: null,
    text: p.text,
    createdAt: p.createdAt,
    delivered: false,
    deliveredAt: null,
    read: false,
    readAt: null,
    tempId: p.tempId,
    pending: true,
  };
}

/**
 * Sends not yet acknowledged by the server, by tempId, in the order they were
 * made. Each is sent again, with the same tempId, after every reconnect until
 * the server's answer settles it (stored: confirmed; refused: dropped); the
 * server's tempId dedupe makes a repeat store nothing new.
 */
export class Outbox<T> {
  private items = new Map<string, T>();

  add(tempId: string, item: T) {
    this.items.set(tempId, item);
  }

  get(tempId: string) {
    return this.items.get(tempId);
  }

  has(tempId: string) {
    return this.items.has(tempId);
  }

  /** Removes it; true when it was still waiting (the first answer wins). */
  settle(tempId: string) {
    return this.items.delete(tempId);
  }

  /** The tempIds to send again, oldest first. */
  waiting() {
    return [...this.items.keys()];
  }

  get size() {
    return this.items.size;
  }
}

/**
 * Applies a message:read for a group or direct conversation to the caller's
 * own messages up to seq `upTo`: a direct message is read (and delivered);
 * a group message counts the reader once, and is read (delivered) by all
 * when `others` members have. Returns the messages changed.
 */
export function applyRead(
  messages: LocalMessage[],
  e: { me: string; readerId: string; upTo: number; readAt: string; group: boolean; others: number },
) {
  const changed: LocalMessage[] = [];
  for (const m of messages) {
    if (m.from !== e.me || m.pending || m.seq > e.upTo) continue;
    if (e.group) {
      m.readers = [...new Set([...(m.readers ?? []), e.readerId])];
      m.deliverees = [...new Set([...(m.deliverees ?? []), e.readerId])];
      m.readCount = Math.max(m.readCount ?? 0, m.readers.length);
      m.deliveredCount = Math.max(m.deliveredCount ?? 0, m.deliverees.length);
      m.read = m.readCount >= e.others;
      m.delivered = m.deliveredCount >= e.others;
    } else {
      m.read = m.delivered = true;
    }
    if (m.read) m.readAt = e.readAt;
    changed.push(m);
  }
  return changed;
}

/** Applies a message:delivered from member `userId` (a group) or the peer (direct, no userId). */
export function applyDelivered(m: LocalMessage, e: { userId?: string; deliveredAt: string; group: boolean; others: number }) {
  if (e.group && e.userId) {
    m.deliverees = [...new Set([...(m.deliverees ?? []), e.userId])];
    m.deliveredCount = Math.max(m.deliveredCount ?? 0, m.deliverees.length);
    if (m.deliveredCount >= e.others) m.delivered = true;
  } else {
    m.delivered = true;
  }
  m.deliveredAt = e.deliveredAt;
}
