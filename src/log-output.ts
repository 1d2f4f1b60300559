/**
 * Where the service's log lines go: standard output, written without ever blocking the process. A log
 * collector that stalls (a parent that stops reading, a full pipe) or has gone (a parent that exited)
 * must not keep the service from serving or from stopping, so:
 * - lines are queued and written asynchronously; at most `maxPendingBytes` wait, and a line that would
 *   exceed that is dropped and counted (`dws_log_lines_dropped_total` in /metrics);
 * - on a pipe or socket, the descriptor is driven by libuv in non-blocking mode (a net.Socket): a full
 *   pipe only makes the queue grow; a closed one (EPIPE) drops every later line;
 * - on a file or terminal, SonicBoom's asynchronous mode with the same bound.
 * Nothing here writes synchronously, so a forced exit is never held by a write.
 */
import { fstatSync } from 'node:fs';
import net from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';

/** Default bound on log bytes waiting to be written. */
export const LOG_PENDING_LIMIT_BYTES = 4 * 1024 * 1024;

export interface LogOutput extends pino.DestinationStream {
  /** Lines dropped because the queue was full or the output had gone. */
  readonly dropped: number;
  /** Resolves once the queued lines are written, or after `timeoutMs` regardless (before an exit). */
  drain(timeoutMs: number): Promise<void>;
}

export function openLogOutput(fd = 1, maxPendingBytes = LOG_PENDING_LIMIT_BYTES): LogOutput {
  let kind: 'stream' | 'other' = 'other';
  try {
    const stat = fstatSync(fd);
    if (stat.isFIFO() || stat.isSocket()) kind = 'stream';
  } catch {
    // a closed descriptor: nothing can be written
    return { dropped: 0, write() {}, drain: async () => {} };
  }
  return kind === 'stream' ? socketOutput(fd, maxPendingBytes) : sonicOutput(fd, maxPendingBytes);
}

function socketOutput(fd: number, maxPendingBytes: number): LogOutput {
  const socket = new net.Socket({ fd, readable: false, writable: true });
  // The log must never keep the process alive by itself.
  socket.unref();
  let gone = false;
  const output = {
    dropped: 0,
    write(line: string) {
      if (gone || socket.destroyed || socket.writableLength + line.length > maxPendingBytes) {
        output.dropped++;
        return;
      }
      socket.write(line);
    },
    drain(timeoutMs: number) {
      return bounded(timeoutMs, (done) => {
        if (gone || socket.writableLength === 0) return done();
        socket.once('drain', done);
        socket.once('error', done);
      });
    },
  };
  socket.on('error', () => {
    // EPIPE: the reader has gone. What was queued is lost with it.
    gone = true;
  });
  return output;
}

function sonicOutput(fd: number, maxPendingBytes: number): LogOutput {
  const sonic = pino.destination({ dest: fd, sync: false, minLength: 0, maxLength: maxPendingBytes });
  const output = {
    dropped: 0,
    write(line: string) {
      sonic.write(line);
    },
    drain(timeoutMs: number) {
      return bounded(timeoutMs, (done) => sonic.flush(() => done()));
    },
  };
  sonic.on('drop', () => {
    output.dropped++;
  });
  sonic.on('error', () => {});
  return output;
}

/** Runs `start(done)` and resolves at `done` or after `timeoutMs`, whichever comes first. */
function bounded(timeoutMs: number, start: (done: () => void) => void): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    timer.unref();
    start(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** The output as a Node Writable (pino-pretty pipes into one); writes never wait. */
export function asWritable(output: LogOutput): Writable {
  return new Writable({
    decodeStrings: false,
    write(chunk: string | Buffer, _encoding, done) {
      output.write(typeof chunk === 'string' ? chunk : chunk.toString());
      done();
    },
  });
}
