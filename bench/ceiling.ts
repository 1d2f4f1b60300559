/**
 * The ceiling: node's bare `http` server answering a fixed JSON body (the service's own encrypt-info
 * answer), run as a child process of the benchmark. Usage: BENCH_BODY=<json> PORT=<n> tsx bench/ceiling.ts
 */
import { createServer } from 'node:http';

const body = Buffer.from(process.env.BENCH_BODY ?? '{}');
const headers = { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length };
const server = createServer((_req, res) => {
  res.writeHead(200, headers);
  res.end(body);
});
server.keepAliveTimeout = 72_000;
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${JSON.stringify({ listening: typeof address === 'object' ? address?.port : 0 })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
