// PRESENCE_SCOPE=contacts: a user's presence reaches only the users who share
// a conversation with them. users:online lists the user and their online
// contacts only (and is still the socket's first event); user:online / user:offline reach contacts
// and no one else. Absence is checked behind a barrier on the same path: a
// contact of the observer changes presence after the event that must not
// arrive, and presence events reach a socket in the order they happened.
// With the default scope, the same users hear everyone (the contract).

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, newUser } from './lib/server.mjs';
import { send as httpSend } from './lib/messages.mjs';
import { BASE_ENV, connect, onlineSnapshot, closeAll } from './lib/chat.mjs';

after(() => closeAll());

// Two users become contacts with their first message.
async function talk(url, a, b) {
  const res = await httpSend(url, a, b, `hello from ${a.user.name}`);
  assert.equal(res.status, 201, res.text);
}

test('PRESENCE_SCOPE=contacts: presence reaches contacts only; users:online lists online contacts only', async () => {
  const srv = await startServer({ env: { ...BASE_ENV, PRESENCE_SCOPE: 'contacts' } });
  try {
    const [a, b, c, d] = await Promise.all(['A', 'B', 'C', 'D'].map((n) => newUser(srv.url, { name: `Scope ${n}` })));
    await talk(srv.url, a, b);  // A and B are contacts
    await talk(srv.url, c, d);  // C and D are contacts; C knows neither A nor B

    const cc = await connect(srv.url, c, { label: 'C' });
    assert.deepEqual(await onlineSnapshot(cc), [c.user._id], 'no contact of C is online: C alone');
    const ca = await connect(srv.url, a, { label: 'A' });
    assert.deepEqual(await onlineSnapshot(ca), [a.user._id], 'C is online but no contact of A');
    assert.equal(ca.events[0].event, 'users:online', 'users:online is the first event');
    const cb = await connect(srv.url, b, { label: 'B' });
    assert.deepEqual(await onlineSnapshot(cb), [b.user._id, a.user._id], 'B sees itself and its contact A');
    // B has A's message pending: its replay waits behind users:online.
    await cb.waitEvent('message:received');
    assert.equal(cb.events[0].event, 'users:online', 'users:online before the replay');
    const on = await ca.waitEvent('user:online', (p) => p.userId === b.user._id);
    assert.deepEqual(on.args[0], { userId: b.user._id });

    // Barrier: C's contact D comes online after A and B did.
    const cd = await connect(srv.url, d, { label: 'D' });
    assert.deepEqual(await onlineSnapshot(cd), [d.user._id, c.user._id]);
    await cc.waitEvent('user:online', (p) => p.userId === d.user._id);
    assert.deepEqual(cc.all('user:online').map((e) => e.args[0].userId), [d.user._id],
      'C heard of its contact D and of no one else');
    assert.equal(ca.all('user:online', (p) => p.userId === d.user._id).length, 0, 'A did not hear of D');

    // Offline: A leaves; B hears it with lastSeen, C does not (barrier: D leaves after).
    ca.close();
    const off = await cb.waitEvent('user:offline', (p) => p.userId === a.user._id);
    assert.deepEqual(Object.keys(off.args[0]).sort(), ['lastSeen', 'userId']);
    cd.close();
    await cc.waitEvent('user:offline', (p) => p.userId === d.user._id);
    assert.deepEqual(cc.all('user:offline').map((e) => e.args[0].userId), [d.user._id],
      'C heard D leave and no one else');
    cb.close();
    cc.close();
  } finally {
    closeAll();
    assert.equal(await srv.stop(), 0);
  }
});

test('PRESENCE_SCOPE=all (the default): the same users hear everyone', async () => {
  const srv = await startServer({ env: { ...BASE_ENV, PRESENCE_SCOPE: 'all' } });
  try {
    const [a, c] = await Promise.all(['A', 'C'].map((n) => newUser(srv.url, { name: `All ${n}` })));
    const cc = await connect(srv.url, c, { label: 'C' });
    assert.deepEqual(await onlineSnapshot(cc), [c.user._id]);
    const ca = await connect(srv.url, a, { label: 'A' });
    assert.deepEqual((await onlineSnapshot(ca)).sort(), [a.user._id, c.user._id].sort());
    await cc.waitEvent('user:online', (p) => p.userId === a.user._id);
    ca.close();
    await cc.waitEvent('user:offline', (p) => p.userId === a.user._id);
    cc.close();
  } finally {
    closeAll();
    assert.equal(await srv.stop(), 0);
  }
});

test('PRESENCE_SCOPE other than all or contacts stops the start with exit 2', async () => {
  const { runToExit } = await import('./lib/server.mjs');
  const r = await runToExit({ env: { ...BASE_ENV, PRESENCE_SCOPE: 'friends' } });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /PRESENCE_SCOPE must be all or contacts/);
});
