/**
 * The request line and the request metrics are built by hand on the hot path (request-log.ts,
 * ops/metrics.ts): what they produce must be exactly what pino and prom-client produce.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import pino from 'pino';
import { Counter, Histogram, Registry } from 'prom-client';
import { Metrics } from '../../src/api/ops/metrics.js';
import { RequestLine } from '../../src/api/request-log.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/server.js';

function capture(): { stream: Writable; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { stream, lines };
}

const sameTime = (line: string) => line.replace(/"time":\d+/, '"time":0');

test("the request line is byte for byte pino's line for the same fields", () => {
  const { stream, lines } = capture();
  const logger = createLogger(loadConfig({ LOG_FORMAT: 'json', LOG_LEVEL: 'info' }), false, stream);
  const line = new RequestLine(logger);
  const cases = [
    {
      reqId: 'abc',
      method: 'GET',
      route: '/v1/:project_id/x',
      status: 200,
      ms: 1.25,
      caller: 'AKEXAMPLE',
      callerReqId: 'mine-1.x_Y',
    },
    {
      reqId: 'r-2',
      method: 'POST',
      route: 'unknown',
      status: 404,
      ms: 0,
      caller: undefined,
      callerReqId: undefined,
    },
    {
      reqId: 'r.3',
      method: 'GET',
      route: '/a"b\\c',
      status: 500,
      ms: 12,
      caller: 'user "q"\n',
      callerReqId: undefined,
    },
  ];
  for (const c of cases) {
    line.write(c.reqId, c.method, JSON.stringify(c.route), c.status, c.ms, c.caller, c.callerReqId);
    logger.child({}, { redact: [] }).info(c, 'request');
  }
  assert.equal(lines.length, cases.length * 2);
  for (let i = 0; i < lines.length; i += 2) {
    assert.equal(sameTime(lines[i]!), sameTime(lines[i + 1]!));
    assert.equal(JSON.parse(lines[i]!).msg, 'request');
  }
  assert.equal(line.enabled, true);
  assert.equal(new RequestLine(pino({ level: 'warn' }, stream)).enabled, false);
});

test('a logger the line cannot be built for (a mixin) still gets the same line through pino', () => {
  const { stream, lines } = capture();
  const logger = pino({ mixin: () => ({ extra: 1 }) }, stream);
  new RequestLine(logger).write('id', 'GET', '"/r"', 200, 1, undefined, undefined);
  const record = JSON.parse(lines[0]!);
  assert.equal(record.extra, 1);
  assert.equal(record.route, '/r');
});

test("the request metrics' exposition is prom-client's for the same observations", async () => {
  const ours = new Metrics({ defaultMetrics: false });
  const registry = new Registry();
  const labelNames = ['method', 'route', 'status'] as const;
  const counter = new Counter({
    name: 'dws_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status code.',
    labelNames,
    registers: [registry],
  });
  const histogram = new Histogram({
    name: 'dws_http_request_duration_seconds',
    help: 'HTTP request latency in seconds, by method, route pattern and status code.',
    labelNames,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const observations: [string, string, number, number][] = [
    ['GET', '/v1/:project_id/clusters/:cluster_id/encrypt-info', 200, 0.0012],
    ['GET', '/v1/:project_id/clusters/:cluster_id/encrypt-info', 200, 0.3],
    ['GET', '/v1/:project_id/clusters/:cluster_id/encrypt-info', 404, 0.005],
    ['POST', 'unmatched', 404, 11],
    ['GET', '/v1/:project_id/clusters/:cluster_id/encrypt-info', 200, 0.01],
  ];
  const bound = ours.route('GET', '/v1/:project_id/clusters/:cluster_id/encrypt-info');
  for (const [method, route, status, seconds] of observations) {
    if (method === 'GET') bound.observe(status, seconds);
    else ours.observeRequest(method, route, status, seconds);
    const labels = { method, route, status: String(status) };
    counter.inc(labels);
    histogram.observe(labels, seconds);
  }
  const section = (text: string, name: string) =>
    text
      .split('\n\n')
      .find((s) => s.startsWith(`# HELP ${name} `))
      ?.trim();
  const expected = await registry.metrics();
  const actual = await ours.render();
  for (const name of ['dws_http_requests_total', 'dws_http_request_duration_seconds']) {
    assert.ok(section(expected, name), 'section(expected, name)');
    assert.equal(section(actual, name), section(expected, name));
  }
});
