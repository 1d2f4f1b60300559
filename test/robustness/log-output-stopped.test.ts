/**
 * A log reader that stalls or has gone never keeps the service from serving or from stopping: log
 * writes are asynchronous and bounded (src/log-output.ts), lines that cannot be written are dropped and
 * counted in /metrics, and SIGTERM ends the process (test/helpers/log-readers.ts drives it). Here: a reader that stops reading once the service is up.
 */
import { test } from 'node:test';
import { runWithLogReader } from '../helpers/log-readers.js';

test('a reader that stops reading: serving goes on, SIGTERM ends the process', () =>
  runWithLogReader('stops-reading'));
