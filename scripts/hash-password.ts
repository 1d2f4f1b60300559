/**
 * `npm run hash-password`: prints a `password_hash` for the identities file (DWS_IAM_FILE):
 *   scrypt$N$r$p$<salt base64>$<hash base64>
 * The password is read from standard input (typed without echo on a terminal, or piped:
 * `printf %s "$PW" | npm run -s hash-password`), never from the command line, where it would be
 * visible in the process list and the shell history. Options: --cost N (a power of two, default 16384).
 */
import { DEFAULT_SCRYPT_PARAMS, hashPassword } from '../src/crypto/password.js';

function readHidden(prompt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stderr.write(prompt);
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding('utf8');
    let value = '';
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') {
          stdin.setRawMode(false);
          stdin.pause();
          stdin.off('data', onData);
          process.stderr.write('\n');
          resolve(value);
          return;
        }
        if (ch === '\u0003') {
          stdin.setRawMode(false);
          process.stderr.write('\n');
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

async function readPiped(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  // One trailing newline (echo, a here-string) is not part of the password.
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  let N = DEFAULT_SCRYPT_PARAMS.N;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--cost' && args[i + 1] !== undefined) N = Number(args[++i]);
    else {
      process.stderr.write('usage: npm run hash-password [-- --cost N]  (the password is read from stdin)\n');
      process.exit(2);
    }
  }
  let password: string;
  if (process.stdin.isTTY) {
    password = await readHidden('Password: ');
    const again = await readHidden('Again: ');
    if (again !== password) {
      process.stderr.write('The two passwords differ.\n');
      process.exit(1);
    }
  } else {
    password = await readPiped();
  }
  if (password.length === 0) {
    process.stderr.write('The password is empty.\n');
    process.exit(1);
  }
  process.stdout.write(`${await hashPassword(password, { ...DEFAULT_SCRYPT_PARAMS, N })}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`hash-password: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
