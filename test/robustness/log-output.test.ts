/**
 * A log reader that stalls or has gone never keeps the service from serving or from stopping: log
 * writes are asynchronous and bounded (src/log-output.ts), lines that cannot be written are dropped and
 * counted in /metrics, and SIGTERM ends the process (test/helpers/log-readers.ts drives it). Here: a reader that never reads (the pipe is full from the start).
 */
import { test } from 'node:test';
import { runWithLogReader } from '../helpers/log-readers.js';

test('a reader that never reads (a full pipe): serving goes on, lines are dropped and counted, SIGTERM ends the process', () =>
  runWithLogReader('never-reads'));
