/**
 * `dws-encryption hash-password` (also `npm run hash-password`): prints a `password_hash` for the
 * identities file (DWS_IAM_FILE):
 *   scrypt$N$r$p$<salt base64>$<hash base64>
 * The password is read from standard input (typed twice without echo on a terminal, or piped:
 * `printf %s "$PW" | dws-encryption hash-password`), never from the command line, where it would be
 * visible in the process list and the shell history. The hash is `hashPassword` of src/crypto/password.ts,
 * the same code the service verifies with.
 */
import type { Command } from 'commander';
import { DEFAULT_SCRYPT_PARAMS, hashPassword } from '../crypto/password.js';
import { cliIo, UsageError } from './context.js';

/** Reads one line from a terminal without echo (raw mode); Ctrl-C cancels, Backspace erases. */
function readHidden(prompt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    // Only ever called on a terminal: the process's own.
    const stdin = process.stdin;
    process.stderr.write(prompt);
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding('utf8');
    let value = '';
    const finish = () => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') {
          finish();
          resolve(value);
          return;
        }
        if (ch === '\u0003') {
          finish();
          reject(new Error('cancelled'));
          return;
        }
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    stdin.on('data', onData);
  });
}

/** Reads all of a piped standard input; one trailing newline (echo, a here-string) is not part of it. */
async function readPiped(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of cliIo().stdin) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/** The password from standard input: asked twice on a terminal, else read whole from the pipe. */
export async function readPassword(): Promise<string> {
  let password: string;
  if (cliIo().stdin.isTTY) {
    password = await readHidden('Password: ');
    const again = await readHidden('Again: ');
    if (again !== password) throw new Error('the two passwords differ');
  } else {
    password = await readPiped();
  }
  if (password.length === 0) throw new Error('the password is empty');
  return password;
}

function parseCost(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1024 || n > 1048576 || (n & (n - 1)) !== 0) {
    throw new UsageError(`--cost must be a power of two from 1024 to 1048576, got '${value}'`);
  }
  return n;
}

export function registerHashPassword(program: Command): void {
  program
    .command('hash-password')
    .description('print a scrypt password_hash for the identities file; the password is read from stdin')
    .option('--cost <N>', 'scrypt N, a power of two from 1024 to 1048576', parseCost, DEFAULT_SCRYPT_PARAMS.N)
    .addHelpText(
      'after',
      `
The password is typed twice without echo on a terminal, or piped:
  printf %s "$PASSWORD" | dws-encryption hash-password
Never pass it as an argument (the process list and the shell history would show it).`,
    )
    .action(async (opts: { cost: number }) => {
      const password = await readPassword();
      cliIo().stdout(`${await hashPassword(password, { ...DEFAULT_SCRYPT_PARAMS, N: opts.cost })}\n`);
    });
}
