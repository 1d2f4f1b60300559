/** A pino logger whose JSON lines are kept in memory, for tests that read what the service logged. */
import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';

export interface CapturedLog {
  readonly logger: Logger;
  /** Everything logged so far. */
  text(): string;
  /** The lines logged so far, parsed. */
  lines(): Array<Record<string, unknown>>;
}

export function captureLog(level = 'info'): CapturedLog {
  let text = '';
  const sink = new Writable({
    write(chunk, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  return {
    logger: pino({ level }, sink),
    text: () => text,
    lines: () =>
      text
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}
