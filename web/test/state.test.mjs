// The client's pure state logic (src/state.ts), compiled by
// scripts/unit-test.mjs into a directory where ../src/state.js is its output.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  mergeMessages, lastSeq, leavesGap, missingSeqs, pendingMessage, Outbox, applyRead, applyDelivered,
} from '../src/state.js';

const ME = 'me';
const PEER = 'peer';

function msg(seq, extra = {}) {
  return {
    _id: `id${seq}`, conversationId: 'c', seq, from: PEER, to: ME, text: `m${seq}`,
    createdAt: '2026-12-01T19:00:00.000Z', delivered: false, deliveredAt: null, read: false, readAt: null,
    ...extra,
  };
}

function pending(tempId, text = tempId) {
  return pendingMessage({ from: ME, conversationId: 'c', text, tempId, createdAt: '2026-12-01T19:00:00.000Z' });
}

const seqs = (list) => list.map((m) => m.seq);
const texts = (list) => list.map((m) => m.text);

describe('mergeMessages', () => {
  test('orders by seq whatever the arrival order', () => {
    const { messages } = mergeMessages([msg(3)], [msg(5), msg(1), msg(4), msg(2)]);
    assert.deepEqual(seqs(messages), [1, 2, 3, 4, 5]);
  });

  test('dedupes by _id: a replay or an overlapping page adds nothing', () => {
    let { messages } = mergeMessages([], [msg(1), msg(2), msg(3)]);
    ({ messages } = mergeMessages(messages, [msg(2), msg(3), msg(4)]));
    ({ messages } = mergeMessages(messages, [msg(4)]));
    assert.deepEqual(seqs(messages), [1, 2, 3, 4]);
  });

  test('a message held again takes the server copy and keeps the receipts seen', () => {
    const first = { ...msg(1, { from: ME }), readers: ['a'], deliverees: ['a', 'b'] };
    const { messages } = mergeMessages([first], [msg(1, { from: ME, read: true, readAt: 'x' })]);
    assert.equal(messages.length, 1);
    assert.equal(messages[0].read, true);
    assert.deepEqual(messages[0].readers, ['a']);
    assert.deepEqual(messages[0].deliverees, ['a', 'b']);
  });

  test('a pending send is replaced by the stored message with its tempId, and confirmed', () => {
    const list = [msg(1), pending('t1', 'hello')];
    const { messages, confirmed } = mergeMessages(list, [msg(2, { from: ME, text: 'hello', tempId: 't1' })]);
    assert.deepEqual(seqs(messages), [1, 2]);
    assert.equal(messages[1].pending, undefined);
    assert.deepEqual(confirmed, ['t1']);
    // The same message again (the ack and a replay both carry it): still once.
    const again = mergeMessages(messages, [msg(2, { from: ME, text: 'hello', tempId: 't1' })]);
    assert.deepEqual(seqs(again.messages), [1, 2]);
    assert.deepEqual(again.confirmed, []);
  });

  test('pending sends stay last, in the order they were made', () => {
    const list = [pending('t1', 'first'), pending('t2', 'second')];
    const { messages } = mergeMessages(list, [msg(7), msg(6)]);
    assert.deepEqual(texts(messages), ['m6', 'm7', 'first', 'second']);
    const { messages: after } = mergeMessages(messages, [msg(8, { from: ME, text: 'second', tempId: 't2' })]);
    assert.deepEqual(texts(after), ['m6', 'm7', 'second', 'first']);
  });

  test('leaves the list it was given alone', () => {
    const list = [msg(2)];
    mergeMessages(list, [msg(1)]);
    assert.deepEqual(seqs(list), [2]);
  });
});

describe('seq gaps', () => {
  test('lastSeq ignores pending sends', () => {
    assert.equal(lastSeq([]), 0);
    assert.equal(lastSeq([msg(1), msg(4), pending('t')]), 4);
  });

  test('leavesGap: only a seq beyond the next one after something loaded', () => {
    assert.equal(leavesGap(7, 8), false);
    assert.equal(leavesGap(7, 10), true);
    assert.equal(leavesGap(7, 7), false); // a replay
    assert.equal(leavesGap(7, 3), false); // an older one
    assert.equal(leavesGap(0, 10), false); // nothing loaded: the first page covers it
  });

  test('missingSeqs names the holes between the oldest and newest held', () => {
    assert.deepEqual(missingSeqs([msg(3), msg(4), msg(7), msg(9), pending('t')]), [5, 6, 8]);
    assert.deepEqual(missingSeqs([msg(5)]), []);
    assert.deepEqual(missingSeqs([]), []);
  });

  test('filling a gap with afterSeq leaves none, once each', () => {
    let { messages } = mergeMessages([], [msg(1), msg(2)]);
    const last = lastSeq(messages);
    ({ messages } = mergeMessages(messages, [msg(5)]));
    assert.ok(leavesGap(last, 5));
    assert.deepEqual(missingSeqs(messages), [3, 4]);
    // The afterSeq=2 page overlaps what arrived live.
    ({ messages } = mergeMessages(messages, [msg(3), msg(4), msg(5)]));
    assert.deepEqual(seqs(messages), [1, 2, 3, 4, 5]);
    assert.deepEqual(missingSeqs(messages), []);
  });
});

describe('Outbox', () => {
  test('keeps sends by tempId in the order made until settled', () => {
    const box = new Outbox();
    box.add('t1', { text: 'a' });
    box.add('t2', { text: 'b' });
    box.add('t3', { text: 'c' });
    assert.deepEqual(box.waiting(), ['t1', 't2', 't3']);
    assert.equal(box.settle('t2'), true);
    assert.equal(box.settle('t2'), false, 'the first answer settles it; a late one finds nothing');
    assert.deepEqual(box.waiting(), ['t1', 't3']);
    assert.deepEqual(box.get('t3'), { text: 'c' });
    assert.equal(box.has('t2'), false);
    assert.equal(box.size, 2);
  });

  test('a merge that confirms a send settles it: a retry after reconnect sends only the rest', () => {
    const box = new Outbox();
    let list = [msg(1)];
    for (const t of ['t1', 't2']) {
      box.add(t, {});
      list = [...list, pending(t)];
    }
    const { messages, confirmed } = mergeMessages(list, [msg(2, { from: ME, text: 't1', tempId: 't1' })]);
    for (const t of confirmed) box.settle(t);
    assert.deepEqual(box.waiting(), ['t2']);
    assert.deepEqual(messages.map((m) => [m.seq === Number.MAX_SAFE_INTEGER ? 'pending' : m.seq, m.text]),
      [[1, 'm1'], [2, 't1'], ['pending', 't2']]);
  });
});

describe('receipts', () => {
  const mine = (seq, extra = {}) => msg(seq, { from: ME, to: null, ...extra });

  test('direct: read up to a seq marks only mine up to it, read and delivered', () => {
    const list = [mine(1), msg(2), mine(3), mine(4), pending('t')];
    const changed = applyRead(list, { me: ME, readerId: PEER, upTo: 3, readAt: 'R', group: false, others: 1 });
    assert.deepEqual(changed.map((m) => m.seq), [1, 3]);
    assert.deepEqual(list.map((m) => m.read), [true, false, true, false, false]);
    assert.equal(list[0].delivered, true);
    assert.equal(list[0].readAt, 'R');
  });

  test('group: read by all once every other member has read, each counted once', () => {
    const m = mine(1, { deliveredCount: 0, readCount: 0 });
    const read = (readerId) => applyRead([m], { me: ME, readerId, upTo: 1, readAt: 'R', group: true, others: 3 });
    read('a');
    read('a'); // repeated: still one
    assert.deepEqual([m.readCount, m.read, m.deliveredCount, m.delivered], [1, false, 1, false]);
    read('b');
    assert.deepEqual([m.readCount, m.read], [2, false]);
    read('c');
    assert.deepEqual([m.readCount, m.read, m.deliveredCount, m.delivered, m.readAt], [3, true, 3, true, 'R']);
  });

  test('group: delivered by all once every other member has a device that acked it', () => {
    const m = mine(1, { deliveredCount: 0, readCount: 0 });
    applyDelivered(m, { userId: 'a', deliveredAt: 'D', group: true, others: 2 });
    applyDelivered(m, { userId: 'a', deliveredAt: 'D', group: true, others: 2 });
    assert.deepEqual([m.deliveredCount, m.delivered], [1, false]);
    applyDelivered(m, { userId: 'b', deliveredAt: 'D2', group: true, others: 2 });
    assert.deepEqual([m.deliveredCount, m.delivered, m.deliveredAt], [2, true, 'D2']);
  });

  test('direct: delivered at once', () => {
    const m = mine(1);
    applyDelivered(m, { deliveredAt: 'D', group: false, others: 1 });
    assert.deepEqual([m.delivered, m.deliveredAt], [true, 'D']);
  });
});
