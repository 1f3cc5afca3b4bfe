'use strict';
// A few counters in the Prometheus text format.

const requests = new Map(); // "method route status" -> count
let openSockets = () => 0;

function countRequests(req, res, next) {
  res.on('finish', () => {
    const route = req.route ? req.baseUrl + req.route.path : 'unmatched';
    const key = `${req.method}\t${route}\t${res.statusCode}`;
    requests.set(key, (requests.get(key) || 0) + 1);
  });
  next();
}

function render() {
  const lines = [
    '# HELP http_requests_total HTTP requests answered, by method, route and status.',
    '# TYPE http_requests_total counter',
  ];
  for (const [key, count] of requests) {
    const [method, route, status] = key.split('\t');
    lines.push(`http_requests_total{method="${method}",route="${route}",status="${status}"} ${count}`);
  }
  const mem = process.memoryUsage();
  lines.push(
    '# HELP process_resident_memory_bytes Resident memory size in bytes.',
    '# TYPE process_resident_memory_bytes gauge',
    `process_resident_memory_bytes ${mem.rss}`,
    '# HELP nodejs_heap_used_bytes V8 heap in use, in bytes.',
    '# TYPE nodejs_heap_used_bytes gauge',
    `nodejs_heap_used_bytes ${mem.heapUsed}`,
    '# HELP socketio_connected_sockets Connected Socket.IO sockets.',
    '# TYPE socketio_connected_sockets gauge',
    `socketio_connected_sockets ${openSockets()}`,
  );
  return lines.join('\n') + '\n';
}

module.exports = {
  countRequests,
  render,
  setSocketCounter(fn) {
    openSockets = fn;
  },
};
