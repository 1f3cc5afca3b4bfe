// Benchmark (not a test): server memory per idle Socket.IO session, over
// WebSocket and over HTTP long-polling. Starts parleyd ($PARLEYD) in
// PROTOCOL_TEST_MODE (no accounts needed), opens N sessions that each
// connect the "/" namespace, and reads the server's VmRSS before and after.
// Run through bench/idle_sessions.sh, which raises the open-file limit.
// Settings: SESSIONS (10000 WebSocket), POLLING_SESSIONS (2000).
import { spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";

// `ws` is a test dependency: load it from tests/node_modules.
const { WebSocket } = createRequire(new URL("../tests/package.json", import.meta.url))("ws");

const parleyd = process.env.PARLEYD;
const N = Number(process.env.SESSIONS ?? 10000);
const P = Number(process.env.POLLING_SESSIONS ?? 2000);

// One server per measurement: memory freed by one phase would otherwise be
// reused by the next and hide its cost.
let dir, server, port;
async function startServer() {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "parley-idle-"));
  server = spawn(parleyd, [], {
    cwd: dir,
    env: { ...process.env, PORT: "0", HOST: "127.0.0.1", PROTOCOL_TEST_MODE: "1", LOG_LEVEL: "info",
           MAX_CONNECTIONS: "30000", CONNECT_TIMEOUT_MS: "600000", DATABASE_URL: `sqlite:${dir}/p.db` },
    stdio: ["ignore", "pipe", "inherit"],
  });
  port = await new Promise((resolve, reject) => {
    let out = "";
    server.stdout.on("data", (d) => {
      out += d;
      const m = out.match(/listening on http:\/\/[^\s:]+:(\d+)/);
      if (m) resolve(Number(m[1]));
    });
    server.on("exit", () => reject(new Error("parleyd exited")));
  });
  server.stdout.resume();
}
async function stopServer() {
  const exited = new Promise((r) => server.on("exit", r));
  server.kill("SIGTERM");
  await exited;
  fs.rmSync(dir, { recursive: true, force: true });
}

const rssKiB = () => Number(fs.readFileSync(`/proc/${server.pid}/status`, "utf8").match(/VmRSS:\s+(\d+)/)[1]);
const settle = () => new Promise((r) => setTimeout(r, 1500));

function openWs() {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`);
    ws.on("error", reject);
    ws.on("message", (data) => {
      const s = data.toString();
      if (s.startsWith("0")) ws.send("40");
      else if (s.startsWith("40")) resolve(ws);
      else if (s === "2") ws.send("3");
    });
  });
}

const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
function request(method, query, body) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, method, agent,
                               path: `/socket.io/?EIO=4&transport=polling${query}` }, (res) => {
      let text = "";
      res.on("data", (d) => (text += d));
      res.on("end", () => resolve(text));
    });
    req.on("error", reject);
    if (body) req.end(body);
    else req.end();
  });
}
async function openPolling() {
  const open = await request("GET", "");
  const sid = JSON.parse(open.slice(1)).sid;
  await request("POST", `&sid=${sid}`, "40");
  await request("GET", `&sid=${sid}`);  // the CONNECT answer
  request("GET", `&sid=${sid}`).catch(() => {});  // held: an idle session waits in a GET
  return sid;
}

async function inBatches(count, open) {
  const out = [];
  for (let i = 0; i < count; i += 200) {
    out.push(...(await Promise.all(Array.from({ length: Math.min(200, count - i) }, open))));
  }
  return out;
}

// Warm up (allocator arenas, first-use structures), then measure.
await startServer();
(await inBatches(200, openWs)).forEach((ws) => ws.close());
await settle();
const base = rssKiB();
const sockets = await inBatches(N, openWs);
await settle();
const withWs = rssKiB();
console.log(`WebSocket: ${N} idle Socket.IO sessions, RSS ${base} KiB -> ${withWs} KiB: ` +
            `${((withWs - base) / N).toFixed(2)} KiB per session`);
sockets.forEach((ws) => ws.close());
await stopServer();

await startServer();
await inBatches(100, openPolling);
await settle();
const base2 = rssKiB();
await inBatches(P, openPolling);
await settle();
const withPolling = rssKiB();
console.log(`polling: ${P} idle Socket.IO sessions (each with a held GET), RSS ${base2} KiB -> ` +
            `${withPolling} KiB: ${((withPolling - base2) / P).toFixed(2)} KiB per session`);
agent.destroy();
await stopServer();
process.exit(0);
