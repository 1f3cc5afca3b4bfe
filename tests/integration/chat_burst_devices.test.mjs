// A burst of 10,000 messages to a recipient with three devices online:
// every device receives every message exactly once, in seq order, and all
// of them end up delivered.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';

import { startServer, newUser, waitFor } from './lib/server.mjs';
import { historyAfterSeq } from './lib/messages.mjs';
import { BASE_ENV, connect, closeAll } from './lib/chat.mjs';

const BURST = 10_000;
const WINDOW = 64;  // sends in flight at once

after(closeAll);

test(`three devices each get a ${BURST}-message burst exactly once, in seq order`, async () => {
  const srv = await startServer({ env: BASE_ENV });
  const alice = await newUser(srv.url, { name: 'Burst Sender' });
  const bob = await newUser(srv.url, { name: 'Burst Recipient' });
  const devices = [];
  for (let i = 0; i < 3; i += 1) devices.push(await connect(srv.url, bob, { label: `bob ${i}`, autoAck: true }));
  const sender = await connect(srv.url, alice, { label: 'alice' });

  let next = 0;
  const acked = [];
  async function lane() {
    while (next < BURST) {
      const i = next;
      next += 1;
      acked.push(await sender.send(bob, `burst ${i}`));
    }
  }
  await Promise.all(Array.from({ length: WINDOW }, lane));
  assert.equal(acked.length, BURST);
  const ids = new Set(acked.map((m) => m._id));
  assert.equal(ids.size, BURST, 'every send acked with its own message');

  for (const d of devices) {
    await d.until(() => d.all('message:received').length >= BURST, { timeoutMs: 120_000, what: `${BURST} messages` });
    const got = d.all('message:received').map((e) => e.args[0].message);
    assert.equal(got.length, BURST, `${d.label}: exactly ${BURST}, no duplicates`);
    assert.equal(new Set(got.map((m) => m._id)).size, BURST, `${d.label}: each message once`);
    got.forEach((m, k) => assert.equal(m.seq, k + 1, `${d.label}: seq order at ${k}`));
    for (const m of got) assert.ok(ids.has(m._id));
  }

  // Everything is stored once, seq 1..BURST, and delivered (a device acked it).
  const stored = await historyAfterSeq(srv.url, bob, alice.user._id);
  assert.equal(stored.length, BURST);
  stored.forEach((m, k) => assert.equal(m.seq, k + 1));
  await waitFor(async () => (await historyAfterSeq(srv.url, bob, alice.user._id)).every((m) => m.delivered), {
    timeoutMs: 30_000, intervalMs: 200, what: 'every message delivered',
  });
});
