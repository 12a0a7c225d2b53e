// Baselines measured in the same run: raw node:http and an express 5 hello-world.
import http from 'node:http';
import express from 'express';

const mode = process.argv[2] ?? 'express';
let server;
if (mode === 'node') {
  server = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"hello":"world"}');
  });
} else {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.get('/', (_req, res) => res.json({ hello: 'world' }));
  app.post('/', (_req, res) => res.status(201).json({ hello: 'world' }));
  server = http.createServer(app);
}
server.listen(0, '127.0.0.1', () => {
  console.log(JSON.stringify({ msg: 'agent-tlog listening', url: `http://127.0.0.1:${server.address().port}` }));
});
