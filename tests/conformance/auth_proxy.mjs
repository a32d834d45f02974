// SPDX-License-Identifier: Apache-2.0
// A forwarder for the conformance suite, which does not do OAuth: listens on
// 127.0.0.1:LISTEN_PORT and passes every request to Postern on
// 127.0.0.1:TARGET_PORT unchanged (Host and Origin included, so the DNS
// rebinding checks see what the suite sent), adding
// `Authorization: Bearer $POSTERN_TOKEN` when the request has none.
// Responses stream back as they come (SSE included); a client that goes
// away closes the upstream request too.
//
// Usage: POSTERN_TOKEN=... node auth_proxy.mjs LISTEN_PORT TARGET_PORT
import http from 'node:http';

const [listenPort, targetPort] = process.argv.slice(2).map(Number);
const token = process.env.POSTERN_TOKEN;
if (!listenPort || !targetPort || !token) {
  console.error('usage: POSTERN_TOKEN=... node auth_proxy.mjs LISTEN_PORT TARGET_PORT');
  process.exit(2);
}

const agent = new http.Agent({ keepAlive: true });

const server = http.createServer((req, res) => {
  const headers = { ...req.headers };
  if (!headers.authorization) headers.authorization = `Bearer ${token}`;
  const upstream = http.request(
    { host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers, agent },
    (up) => {
      res.writeHead(up.statusCode, up.statusMessage, up.rawHeaders);
      up.pipe(res);
    });
  upstream.on('error', (err) => {
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
    res.end(`auth_proxy: ${err.message}\n`);
  });
  res.on('close', () => { if (!res.writableFinished) upstream.destroy(); });
  req.pipe(upstream);
});

server.listen(listenPort, '127.0.0.1', () => {
  console.log(`auth_proxy listening on 127.0.0.1:${listenPort} -> 127.0.0.1:${targetPort}`);
});

for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => server.close(() => process.exit(0)));
