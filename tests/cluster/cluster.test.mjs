// Three parleyd nodes on one PostgreSQL and one Redis behind nginx
// (deploy/nginx/parley.conf), driven through nginx with the official
// socket.io-client: sticky routing that spreads clients, TRUST_PROXY,
// chat between nodes, one gapless seq under concurrent senders on every
// node, logout across nodes, a node killed mid-conversation, Redis and
// PostgreSQL restarted mid-test.
//
// The cases named "(cluster-wide state)" test presence and limits held
// across nodes (CLUSTER_NODE_TTL_MS, MAX_SOCKETS_PER_USER, the message
// rate limit).

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { newUser, request, waitFor, connectRaw, rawRequest } from '../integration/lib/server.mjs';
import { history, send as httpSend } from '../integration/lib/messages.mjs';
import { createGroupOk } from '../integration/lib/groups.mjs';
import {
  TRANSPORT_MODES, ChatClient, connect, closeAll, onlineSnapshot, userList, barrier, RECONNECT, receivedPerConnection,
} from '../integration/lib/chat.mjs';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../integration/lib/server.mjs';
import { startCluster, ROUTE_COOKIE, NGINX_TEMPLATE } from './lib/cluster.mjs';

const NODE_TTL_MS = 3000;
const MAX_SOCKETS = 3;
const MAX_PENDING_PER_IP = 8;
const RATE = 20;
const BURST = 200;

let cluster;
before(async () => {
  cluster = await startCluster({
    env: {
      BCRYPT_ROUNDS: '4',
      RATE_LIMIT_AUTH_PER_MIN: '100000',
      RATE_LIMIT_MESSAGES_PER_SEC: String(RATE),
      RATE_LIMIT_MESSAGES_BURST: String(BURST),
      MAX_SOCKETS_PER_USER: String(MAX_SOCKETS),
      MAX_PENDING_SESSIONS_PER_IP: String(MAX_PENDING_PER_IP),
      CLUSTER_NODE_TTL_MS: String(NODE_TTL_MS),
      // Above the broker's usual lag on a loaded test machine; a longer lag
      // (or a publication lost with Redis) ends the wait in a replay from
      // the store, which keeps the order too.
      DELIVERY_REORDER_MS: '1000',
      // A dead node's polling clients notice within a few seconds.
      PING_INTERVAL_MS: '1000',
      PING_TIMEOUT_MS: '2000',
    },
  });
});
after(async () => {
  closeAll();
  if (cluster) await cluster.stop();
});

/** Opens a client of `who` through nginx on node `i`; waits for its connection. */
async function on(i, who, opts = {}) {
  return connect(cluster.url, who, { ...(await cluster.via(i)), ...opts });
}

/** Every message of a conversation (or with a user) as `who` sees it, oldest first. */
async function allHistory(url, who, id) {
  const all = [];
  for (;;) {
    const page = await history(url, who, id, { afterSeq: all.length ? all[all.length - 1].seq : 0, limit: 200 });
    assert.equal(page.status, 200, page.text);
    all.push(...page.body);
    if (page.body.length < 200) return all;
  }
}

/** Closes clients and waits until no node holds a session. */
async function closeClients(clients) {
  for (const c of clients) c.close();
  await cluster.expectSessions(cluster.nodes.map((n) => (n.running ? 0 : null)));
}

/**
 * A test whose clients are all closed when it ends, passed or not, so that
 * the next test starts with no session on any node.
 */
function ctest(name, fn) {
  test(name, async (t) => {
    try {
      await fn(t);
    } finally {
      closeAll();
    }
  });
}

/** Sends with an ack and a deadline; resolves {ok, message} / {ok:false, error} or {lost} (no ack in time). */
async function trySend(client, payload, timeoutMs = 3000) {
  try {
    return await client.socket.timeout(timeoutMs).emitWithAck('message:send', payload);
  } catch (e) {
    return { lost: e.message };
  }
}

/**
 * The pace of a stream of sends (the stimulus, not a wait for anything):
 * 40 a second, well within the rate limit's burst for the few seconds a
 * failure test streams.
 */
function pace() {
  return new Promise((resolve) => { setTimeout(resolve, 25); });
}

/** Starts again any node a previous test killed (and failed before restarting). */
async function allNodesUp() {
  for (let i = 0; i < cluster.nodes.length; i += 1) {
    if (!cluster.nodes[i].running) await cluster.restartNode(i);
  }
}

/** Waits until `client` has disconnected at least `n` times and is connected again. */
function reconnected(client, n = 1, timeoutMs = 20_000) {
  return client.until(() => client.disconnects.length >= n && client.connected, { timeoutMs, what: 'a reconnection' });
}

describe('routing', () => {
  test('docs/deploy.md quotes the nginx configuration and the systemd unit as they are', () => {
    const doc = fs.readFileSync(path.join(REPO_ROOT, 'docs', 'deploy.md'), 'utf8');
    for (const file of [NGINX_TEMPLATE, path.join(REPO_ROOT, 'deploy', 'systemd', 'parleyd.service')]) {
      assert.ok(doc.includes(`\n${fs.readFileSync(file, 'utf8')}\`\`\``), `docs/deploy.md holds ${file} verbatim`);
    }
  });

  ctest('nginx gives new clients a route cookie, spreads them over the nodes and keeps each long-polling session on one node', async () => {
    // A new client gets a route key from nginx; the same key always reaches the same node.
    const first = await request(cluster.url, '/api/health');
    const set = first.cookies.find((c) => c.startsWith(`${ROUTE_COOKIE}=`));
    assert.ok(set, `nginx sets ${ROUTE_COOKIE}: ${JSON.stringify(first.cookies)}`);
    const key = set.split(';')[0].split('=')[1];
    assert.match(key, /^[0-9a-f]{32}$/);
    const n = await cluster.nodeOf(key);
    assert.equal(await cluster.nodeOf(key), n);
    const again = await request(cluster.url, '/api/health', { cookie: `${ROUTE_COOKIE}=${key}` });
    assert.deepEqual(again.cookies.filter((c) => c.startsWith(`${ROUTE_COOKIE}=`)), [], 'set only once');

    // Twelve new clients (cookies kept as a browser keeps them), four of
    // each transport setting. Long-polling needs every request of a session
    // on its node: a request routed elsewhere is refused (unknown sid).
    const u = await newUser(cluster.url, { name: 'Spread' });
    const peers = await Promise.all(Array.from({ length: 12 }, (_, i) => newUser(cluster.url, { name: `Spread ${i}` })));
    const modes = [{}, { transports: ['websocket'] }, { transports: ['polling'] }];
    const clients = await Promise.all(peers.map((p, i) => connect(cluster.url, p, { ...modes[i % 3], withCredentials: true, label: `spread ${i}` })));
    const perNode = await cluster.sessionsPerNode();
    assert.equal(perNode.reduce((a, b) => a + b, 0), 12, `sessions per node ${JSON.stringify(perNode)}`);
    assert.ok(perNode.filter((x) => x > 0).length >= 2, `clients spread over the nodes: ${JSON.stringify(perNode)}`);
    // Each of them chats: polling clients carry events both ways over many requests.
    const sender = await connect(cluster.url, u, { withCredentials: true, label: 'spread sender' });
    for (let i = 0; i < clients.length; i += 1) {
      const m = await sender.send(peers[i], `to ${i}`);
      (await clients[i].waitReceived(m._id)).ack();
      await sender.waitEvent('message:delivered', (p) => p.messageId === m._id);
      const back = await clients[i].send(u, `from ${i}`);
      await sender.waitReceived(back._id);
    }
    for (const c of clients) assert.deepEqual(c.disconnects, [], `${c.label} stayed connected`);
    await closeClients([sender, ...clients]);
  });

  ctest('TRUST_PROXY: a per-IP limit counts the client address nginx forwards, not nginx\'s, and not what a client claims', async () => {
    const { extraHeaders } = await cluster.via(0);
    const handshake = async (localAddress, headers = {}) => {
      const conn = await connectRaw(cluster.nginx.port, '127.0.0.1', localAddress);
      try {
        await conn.write(rawRequest('GET', '/socket.io/?EIO=4&transport=polling', { headers: { Cookie: extraHeaders.cookie, ...headers } }));
        return await conn.readResponse();
      } finally {
        conn.destroy();
      }
    };
    // Sessions that never connect a namespace: MAX_PENDING_SESSIONS_PER_IP per client address.
    for (let i = 0; i < MAX_PENDING_PER_IP; i += 1) {
      const res = await handshake('127.0.0.2');
      assert.equal(res.status, 200, res.text);
      assert.match(res.text, /^0\{"sid":/);
    }
    const refused = await handshake('127.0.0.2');
    assert.equal(refused.status, 403, refused.text);
    assert.deepEqual(JSON.parse(refused.text).code, 4);
    // A header of the client's own does not get past nginx.
    const spoofed = await handshake('127.0.0.2', { 'X-Forwarded-For': '10.9.8.7' });
    assert.equal(spoofed.status, 403, spoofed.text);
    // Another client address on the same node (through the same nginx) is not limited.
    const other = await handshake('127.0.0.3');
    assert.equal(other.status, 200, other.text);
  });
});

for (const mode of TRANSPORT_MODES) {
  const T = mode.opts;
  describe(`chat between nodes (${mode.name})`, () => {
    ctest('messages, delivery and read receipts between clients on different nodes', async () => {
      const [a, b] = await Promise.all([newUser(cluster.url, { name: 'Node0 A' }), newUser(cluster.url, { name: 'Node1 B' })]);
      const ca = await on(0, a, { ...T, label: 'A@0' });
      const cb = await on(1, b, { ...T, label: 'B@1' });
      const cb2 = await on(2, b, { ...T, label: 'B@2' });
      await cluster.expectSessions([1, 1, 1]);

      const m = await ca.send(b, 'hello from node 0');
      const r1 = await cb.waitReceived(m._id);
      await cb2.waitReceived(m._id);
      assert.equal(r1.args[0].message.text, 'hello from node 0');
      r1.ack();
      const d = await ca.waitEvent('message:delivered', (p) => p.messageId === m._id);
      assert.equal(d.args[0].conversationId, m.conversationId);

      const reply = await cb2.send(a, 'hello from node 2');
      (await ca.waitReceived(reply._id)).ack();
      // B's other device sees what B sent from node 2.
      await cb.waitReceived(reply._id);

      const ack = await cb.call('message:read', { conversationId: m.conversationId });
      assert.equal(ack.ok, true, JSON.stringify(ack));
      const read = await ca.waitEvent('message:read', (p) => p.conversationId === m.conversationId);
      assert.equal(read.args[0].readerId, b.user._id);
      assert.equal(read.args[0].upTo, m._id);
      const h = await history(cluster.nodes[2].url, a, b.user._id);
      assert.equal(h.status, 200);
      assert.deepEqual(h.body.map((x) => [x._id, x.read]), [[m._id, true], [reply._id, false]]);
      await closeClients([ca, cb, cb2]);
    });

    ctest('typing reaches the peer on another node', async () => {
      const [a, b] = await Promise.all([newUser(cluster.url, { name: 'Typing A' }), newUser(cluster.url, { name: 'Typing B' })]);
      const ca = await on(0, a, { ...T, label: 'A@0' });
      const cb = await on(1, b, { ...T, label: 'B@1' });
      await cluster.expectSessions([1, 1, 0]);
      const m = await ca.send(b, 'so we have a conversation');
      (await cb.waitReceived(m._id)).ack();
      cb.emit('typing', { to: a.user._id, isTyping: true });
      const t = await ca.waitEvent('typing', (p) => p.from === b.user._id);
      assert.deepEqual(t.args[0], { from: b.user._id, conversationId: m.conversationId, isTyping: true });
      await closeClients([ca, cb]);
    });

    ctest('logout on one node disconnects the token\'s socket on another', async () => {
      const a = await newUser(cluster.url, { name: 'Logout A' });
      const ca = await on(1, a, { ...T, label: 'A@1' });
      const res = await request(cluster.nodes[0].url, '/api/auth/logout', { method: 'POST', token: a.token });
      assert.equal(res.status, 200, res.text);
      assert.equal(await ca.waitDisconnect(), 'io server disconnect');
      for (const n of cluster.nodes) assert.equal((await request(n.url, '/api/auth/me', { token: a.token })).status, 401);
      const again = new ChatClient(cluster.url, { ...(await cluster.via(2)), ...T, token: a.token, label: 'A again' });
      assert.match((await again.connectError()).message, /unauthorized|invalid|revoked|token/i);
      again.close();
      await closeClients([ca]);
    });
  });
}

describe('one conversation, senders on every node', () => {
  ctest('concurrent senders on different nodes into one group: one gapless seq; every member\'s device gets every message live, once, in seq order', async () => {
    const PER_SENDER = 40;
    const members = await Promise.all(Array.from({ length: 6 }, (_, i) => newUser(cluster.url, { name: `Seq ${i}` })));
    const group = await createGroupOk(cluster.url, members[0], 'seq', members.slice(1));
    const clients = await Promise.all(members.map((m, i) => on(i % 3, m, { autoAck: true, label: `S${i}@${i % 3}`, ...(i % 2 ? { transports: ['websocket'] } : {}) })));
    await cluster.expectSessions([2, 2, 2]);
    // Half over sockets, half over HTTP straight to a node: all at once.
    const sends = [];
    for (let i = 0; i < members.length; i += 1) {
      for (let k = 0; k < PER_SENDER; k += 1) {
        if (k % 2 === 0) {
          sends.push(clients[i].call('message:send', { conversationId: group._id, text: `${i}:${k}` }).then((x) => {
            assert.equal(x.ok, true, JSON.stringify(x));
            return { ...x.message, node: i % 3 };
          }));
        } else {
          sends.push(request(cluster.nodes[(i + k) % 3].url, '/api/messages/send', {
            method: 'POST', token: members[i].token, body: { conversationId: group._id, text: `${i}:${k}` },
          }).then((r) => {
            assert.equal(r.status, 201, r.text);
            return { ...r.body, node: (i + k) % 3 };
          }));
        }
      }
    }
    const sent = await Promise.all(sends);
    const total = members.length * PER_SENDER;
    assert.deepEqual(sent.map((m) => m.seq).sort((x, y) => x - y), Array.from({ length: total }, (_, i) => i + 1));
    const all = await allHistory(cluster.nodes[1].url, members[0], group._id);
    assert.deepEqual(all.map((m) => m.seq), Array.from({ length: total }, (_, i) => i + 1));
    assert.deepEqual(new Set(all.map((m) => m._id)), new Set(sent.map((m) => m._id)));
    // Live delivery across nodes: each member gets the others' messages
    // once, in seq order. Each node publishes its own commits, so messages
    // reach a node out of seq order; a device's feed waits for the missing
    // ones (DELIVERY_REORDER_MS) and its own sends leave no gap. Each node's
    // commits arrive in seq order whatever the wait (the broker keeps one
    // publisher's order): checked too, to tell the two apart on a failure.
    const committedOn = new Map(sent.map((m) => [m.seq, m.node]));
    for (let i = 0; i < members.length; i += 1) {
      const want = total - PER_SENDER;
      const othersSeqs = () => clients[i].all('message:received', (p) => p.message.from !== members[i].user._id).map((e) => e.args[0].message.seq);
      try {
        await clients[i].until(() => othersSeqs().length >= want, { timeoutMs: 20_000, what: `${want} messages` });
      } catch (e) {
        const got = new Set(othersSeqs());
        const missing = sent.filter((m) => m.from !== members[i].user._id && !got.has(m.seq)).map((m) => m.seq);
        throw new Error(`${clients[i].label} got ${got.size} of ${want} messages of the others; missing seqs ${JSON.stringify(missing.sort((x, y) => x - y))}; received in the order ${JSON.stringify(othersSeqs())}`);
      }
      const seqs = clients[i].all('message:received', (p) => p.message.from !== members[i].user._id).map((e) => e.args[0].message.seq);
      assert.equal(seqs.length, want, `${clients[i].label} got each message once`);
      assert.equal(new Set(seqs).size, want, `${clients[i].label} got no message twice`);
      for (let node = 0; node < 3; node += 1) {
        const fromNode = seqs.filter((q) => committedOn.get(q) === node);
        assert.ok(fromNode.length > 0, `${clients[i].label} got messages committed on node ${node}`);
        assert.deepEqual(fromNode, [...fromNode].sort((x, y) => x - y), `${clients[i].label}: node ${node}'s messages in seq order`);
      }
      assert.deepEqual(seqs, [...seqs].sort((x, y) => x - y), `${clients[i].label}: in seq order`);
    }
    await closeClients(clients);
  });
});

describe('presence and limits (cluster-wide state)', () => {
  ctest('presence is cluster-wide: online while any node holds a socket of the user', async () => {
    const [a, b] = await Promise.all([newUser(cluster.url, { name: 'Presence A' }), newUser(cluster.url, { name: 'Presence B' })]);
    const cb1 = await on(1, b, { label: 'B@1' });
    const cb2 = await on(2, b, { label: 'B@2' });
    const ca = await on(0, a, { label: 'A@0' });
    // A's snapshot on node 0 has B, whose sockets are on nodes 1 and 2.
    assert.ok((await onlineSnapshot(ca)).includes(b.user._id), 'users:online on node 0 lists B (on nodes 1 and 2)');
    await cb1.waitEvent('user:online', (p) => p.userId === a.user._id);
    for (const n of cluster.nodes) {
      const users = await userList(n.url, b);
      assert.equal(users.get(a.user._id).online, true, `GET /api/users on port ${n.port} has A online`);
    }
    // One of B's two sockets goes: B stays online.
    cb1.close();
    await barrier(cluster.url, b, a, [ca]);
    await barrier(cluster.nodes[2].url, a, b, [cb2]);
    assert.deepEqual(ca.all('user:offline', (p) => p.userId === b.user._id), [], 'B has a socket on node 2: still online');
    assert.equal((await userList(cluster.nodes[0].url, a)).get(b.user._id).online, true);
    // The last one goes: offline everywhere.
    cb2.close();
    const off = await ca.waitEvent('user:offline', (p) => p.userId === b.user._id);
    assert.equal(typeof off.args[0].lastSeen, 'string');
    for (const n of cluster.nodes) assert.equal((await userList(n.url, a)).get(b.user._id).online, false);
    await closeClients([ca]);
  });

  ctest('MAX_SOCKETS_PER_USER holds across nodes', async () => {
    const a = await newUser(cluster.url, { name: 'Max sockets' });
    const open = [];
    for (let i = 0; i < MAX_SOCKETS; i += 1) open.push(await on(i % 3, a, { label: `A${i}@${i % 3}` }));
    // Node 0 itself holds only one of them.
    const extra = new ChatClient(cluster.url, { ...(await cluster.via(0)), token: a.token, label: 'A extra@0' });
    try {
      assert.equal((await extra.connectError()).message, 'too many connections');
    } finally {
      extra.close();
    }
    open.pop().close();
    const again = await on(0, a, { label: 'A again@0' });
    await closeClients([...open, again]);
  });

  ctest('the message rate limit holds across nodes', async () => {
    const [a, b] = await Promise.all([newUser(cluster.url, { name: 'Rate A' }), newUser(cluster.url, { name: 'Rate B' })]);
    const ca0 = await on(0, a, { label: 'A@0' });
    const ca1 = await on(1, a, { label: 'A@1' });
    const t0 = Date.now();
    const acks = await Promise.all([ca0, ca1].flatMap((c, d) => Array.from({ length: BURST },
      (_, i) => c.call('message:send', { to: b.user._id, text: `rate ${d}:${i}` }))));
    const elapsed = (Date.now() - t0) / 1000;
    const ok = acks.filter((x) => x.ok);
    for (const x of acks.filter((y) => !y.ok)) assert.equal(x.error, 'rate_limited', JSON.stringify(x));
    assert.ok(ok.length <= BURST + Math.ceil(elapsed * RATE) + 1,
      `${ok.length} of ${2 * BURST} sends accepted in ${elapsed} s on two nodes: one bucket allows ${BURST} + ${RATE}/s`);
    assert.equal((await allHistory(cluster.url, b, a.user._id)).length, ok.length);
    await closeClients([ca0, ca1]);
  });
});

describe('failures', () => {
  ctest('kill -9 of a node mid-conversation: its clients reconnect through nginx to the others, nothing acked is lost, pending messages arrive', async () => {
    await allNodesUp();
    const [a, b, c] = await Promise.all(['A', 'B', 'C'].map((x) => newUser(cluster.url, { name: `Kill ${x}` })));
    // A and B on node 0 (which dies), C on node 1.
    const ca = await on(0, a, { ...RECONNECT, label: 'A@0' });
    const cb = await on(0, b, { ...RECONNECT, transports: ['websocket'], label: 'B@0' });
    const cc = await on(1, c, { autoAck: true, label: 'C@1' });
    await cluster.expectSessions([2, 1, 0]);

    // B leaves some of C's messages unacked: pending for B.
    const early = [];
    for (let i = 0; i < 6; i += 1) early.push(await cc.send(b, `early ${i}`));
    for (const m of early.slice(0, 3)) (await cb.waitReceived(m._id)).ack();
    await cb.waitReceived(early[5]._id);

    // A -> C and C -> B stream (B acks nothing more) while node 0 is killed.
    let stop = false;
    const a2c = [];
    const c2b = [];
    const stream = async (client, to, tag, out) => {
      for (let i = 0; !stop; i += 1) {
        out.push(await trySend(client, { to: to.user._id, text: `${tag} ${i}`, tempId: `${tag}-${i}` }));
        await pace();
      }
    };
    const streams = Promise.all([stream(ca, c, 'a2c', a2c), stream(cc, b, 'c2b', c2b)]);
    await waitFor(() => a2c.filter((x) => x.ok).length >= 10 && c2b.filter((x) => x.ok).length >= 10, { what: 'both streams flowing' });
    assert.equal(await cluster.nodes[0].kill(), 'SIGKILL');
    await reconnected(ca);
    await reconnected(cb);
    const placed = await cluster.sessionsPerNode();
    assert.equal(placed[0], null);
    assert.equal(placed[1] + placed[2], 3, `A, B and C on the live nodes: ${JSON.stringify(placed)}`);
    // A sends again from its new node, then the streams stop.
    const since = a2c.length;
    await waitFor(() => a2c.slice(since).filter((x) => x.ok).length >= 5, { what: 'A sending again after its reconnection', timeoutMs: 15_000 });
    stop = true;
    await streams;

    const acked = (outs) => outs.filter((x) => x.ok).map((x) => x.message);
    for (const x of [...a2c, ...c2b]) if (!x.ok) assert.ok(x.lost, `a send was refused: ${JSON.stringify(x)}`);
    assert.ok(acked(a2c).length >= 15 && acked(c2b).length >= 10);
    // Every send acked ok is stored, once.
    const fromA = await allHistory(cluster.nodes[1].url, c, a.user._id);
    const fromAIds = new Set(fromA.map((m) => m._id));
    for (const m of acked(a2c)) assert.ok(fromAIds.has(m._id), `acked "${m.text}" is stored`);
    assert.equal(new Set(fromA.map((m) => m.text)).size, fromA.length, 'nothing stored twice');
    const toB = await allHistory(cluster.nodes[2].url, b, c.user._id);
    const toBIds = new Set(toB.map((m) => m._id));
    for (const m of acked(c2b)) assert.ok(toBIds.has(m._id), `acked "${m.text}" is stored`);
    assert.equal(new Set(toB.map((m) => m.text)).size, toB.length, 'nothing stored twice');
    // C got every message of A's that was acked.
    await cc.until(() => acked(a2c).every((m) => cc.received(m._id).length > 0), { what: 'every acked message of A at C' });
    // What B never acked (three early ones, and the whole stream) arrives on its new connection.
    const pending = [...early.slice(3), ...acked(c2b)];
    await cb.until(() => {
      const conns = receivedPerConnection(cb);
      const last = new Set(conns[conns.length - 1].map((m) => m._id));
      return conns.length >= 2 && pending.every((m) => last.has(m._id));
    }, { what: `the ${pending.length} pending messages on B's new connection` });
    await cluster.restartNode(0);
  });
});

describe('more failures', () => {
  ctest('a killed node\'s users go offline after the TTL unless they reconnect elsewhere (cluster-wide state)', async () => {
    await allNodesUp();
    const [x, z, y] = await Promise.all(['X', 'Z', 'Y'].map((n) => newUser(cluster.url, { name: `TTL ${n}` })));
    const cx = await on(0, x, { label: 'X@0' });  // gone with node 0
    const cz = await on(0, z, { ...RECONNECT, label: 'Z@0' });  // reconnects elsewhere
    const cy = await on(1, y, { label: 'Y@1' });
    await cluster.expectSessions([2, 1, 0]);
    assert.deepEqual(new Set(await onlineSnapshot(cy)), new Set([x.user._id, y.user._id, z.user._id]));
    const killedAt = Date.now();
    assert.equal(await cluster.nodes[0].kill(), 'SIGKILL');
    await cx.waitDisconnect();
    await reconnected(cz);
    const off = await cy.waitEvent('user:offline', (p) => p.userId === x.user._id, { timeoutMs: NODE_TTL_MS + 10_000 });
    assert.ok(off.at - killedAt < NODE_TTL_MS + 5000, `X offline ${off.at - killedAt} ms after the kill (TTL ${NODE_TTL_MS} ms)`);
    const users = await userList(cluster.nodes[2].url, y);
    assert.equal(users.get(x.user._id).online, false);
    assert.equal(users.get(z.user._id).online, true, 'Z reconnected to another node: online');
    // Past the TTL (X's offline came after it): no offline for Z.
    await barrier(cluster.nodes[1].url, z, y, [cy]);
    assert.deepEqual(cy.all('user:offline', (p) => p.userId === z.user._id), [], 'Z never went offline');
    cz.close();
    await cy.waitEvent('user:offline', (p) => p.userId === z.user._id);
    await cluster.restartNode(0);
  });

  ctest('Redis restarted mid-test: nothing acked is lost, the nodes reconnect to it by themselves', async () => {
    await allNodesUp();
    const [a, b] = await Promise.all([newUser(cluster.url, { name: 'Redis A' }), newUser(cluster.url, { name: 'Redis B' })]);
    const ca = await on(0, a, { label: 'A@0' });
    const cb = await on(1, b, { label: 'B@1' });
    await cluster.expectSessions([1, 1, 0]);
    const before = await ca.send(b, 'before');
    (await cb.waitReceived(before._id)).ack();

    await cluster.killRedis();
    await waitFor(async () => (await cluster.health()).every((h) => h.broker === 'down'), { what: 'every node reporting the broker down' });
    // The store still takes messages: acked, stored, and pending for B.
    const during = [];
    for (let i = 0; i < 5; i += 1) during.push(await ca.send(b, `redis down ${i}`));
    const viaHttp = await httpSend(cluster.nodes[2].url, a, b, 'redis down, over http');
    assert.equal(viaHttp.status, 201, viaHttp.text);
    during.push(viaHttp.body);

    await cluster.startRedis();
    await waitFor(async () => (await cluster.health()).every((h) => h.broker === 'ok'), { timeoutMs: 20_000, what: 'every node reporting the broker ok again' });
    // Live again between nodes.
    const after = await ca.send(b, 'redis is back');
    await cb.waitReceived(after._id);
    const stored = new Set((await allHistory(cluster.nodes[1].url, b, a.user._id)).map((m) => m._id));
    for (const m of [before, ...during, after]) assert.ok(stored.has(m._id), `"${m.text}" is stored`);
    // On node 1, "redis is back" waited for the messages published while
    // Redis was down, then a replay from the store brought them first.
    const seqs = cb.all('message:received').map((e) => e.args[0].message.seq);
    assert.deepEqual(seqs, [...seqs].sort((x, y) => x - y), 'B@1 got them in seq order');
    for (const m of during) assert.ok(cb.received(m._id).length > 0, `B@1 got "${m.text}"`);
    // B acked none of them: its next connection, on another node, gets them all.
    cb.close();
    const cb2 = await on(2, b, { label: 'B@2' });
    await cb2.until(() => [...during, after].every((m) => cb2.received(m._id).length > 0), { what: 'the messages B did not ack' });
    // Revocations travel again: a logout on node 2 closes A's socket on node 0.
    assert.equal((await request(cluster.nodes[2].url, '/api/auth/logout', { method: 'POST', token: a.token })).status, 200);
    assert.equal(await ca.waitDisconnect(), 'io server disconnect');
  });

  ctest('PostgreSQL restarted mid-test: nothing acked is lost, service resumes by itself', async () => {
    await allNodesUp();
    const [a, b] = await Promise.all([newUser(cluster.url, { name: 'PG A' }), newUser(cluster.url, { name: 'PG B' })]);
    const ca = await on(0, a, { label: 'A@0' });
    const cb = await on(1, b, { autoAck: true, label: 'B@1' });
    await cluster.expectSessions([1, 1, 0]);
    let stop = false;
    const outs = [];
    const stream = (async () => {
      for (let i = 0; !stop; i += 1) {
        outs.push(await trySend(ca, { to: b.user._id, text: `pg ${i}`, tempId: `pg-${i}` }));
        await pace();
      }
    })();
    await waitFor(() => outs.filter((x) => x.ok).length >= 10, { what: 'sends flowing' });
    await cluster.pg.stop();
    await waitFor(async () => (await cluster.health()).every((h) => h.db !== 'ok'), { what: 'every node reporting the database down' });
    for (const n of cluster.nodes) assert.equal((await request(n.url, '/api/health')).status, 503);
    const refusedFrom = outs.length;
    await waitFor(() => outs.slice(refusedFrom).some((x) => x.ok === false), { what: 'a send refused while the database is down' });
    await cluster.pg.start();
    await waitFor(async () => (await cluster.health()).every((h) => h.status === 'ok' && h.db === 'ok'), { timeoutMs: 20_000, what: 'every node healthy again' });
    const resumedFrom = outs.length;
    await waitFor(() => outs.slice(resumedFrom).filter((x) => x.ok).length >= 5, { what: 'sends accepted again' });
    stop = true;
    await stream;

    for (const x of outs) {
      if (!x.ok) assert.ok(x.lost || x.error === 'unavailable', `a send failed otherwise: ${JSON.stringify(x)}`);
    }
    const acked = outs.filter((x) => x.ok).map((x) => x.message);
    const stored = await allHistory(cluster.nodes[2].url, a, b.user._id);
    const ids = new Set(stored.map((m) => m._id));
    for (const m of acked) assert.ok(ids.has(m._id), `acked "${m.text}" is stored`);
    assert.equal(new Set(stored.map((m) => m.text)).size, stored.length, 'nothing stored twice');
    await cb.until(() => acked.every((m) => cb.received(m._id).length > 0), { what: 'every acked message at B' });
    // New accounts and logins work on every node again.
    for (const n of cluster.nodes) assert.equal((await request(n.url, '/api/auth/login', { method: 'POST', body: { email: a.email, password: a.password } })).status, 200);
  });
});
