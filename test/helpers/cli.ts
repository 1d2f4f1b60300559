/**
 * The CLI in this process: `run(argv, io)` of src/cli/program.ts, as a user would run it with `env`
 * (the HUAWEICLOUD_SDK_* and DWS_* variables given; none of the developer's shell) and `stdin`, with
 * what it prints captured. `spawnCli` is the same through a child process (`node --import tsx
 * src/cli/main.ts`), for the smoke test of the real entry point.
 */
import { execFile } from 'node:child_process';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { run } from '../../src/cli/program.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export type CliEnv = Record<string, string | undefined>;

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The environment of a user: no credentials or settings of the developer's own shell leak in. */
function userEnv(): CliEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) => !name.startsWith('HUAWEICLOUD_SDK_') && !name.startsWith('DWS_'),
    ),
  );
}

export async function runCli(
  args: string[],
  options: { env?: CliEnv; stdin?: string } = {},
): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await run(['node', 'dws-encryption', ...args], {
    env: { ...userEnv(), ...options.env },
    stdin: Readable.from([Buffer.from(options.stdin ?? '')]),
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    stderrIsTTY: false,
  });
  return { code, stdout, stderr };
}

export function spawnCli(args: string[], options: { env?: CliEnv; stdin?: string } = {}): Promise<CliResult> {
  const env = userEnv();
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', ...args],
      { cwd: ROOT, env: { ...env, ...options.env } as NodeJS.ProcessEnv, timeout: 300_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    child.stdin?.end(options.stdin ?? '');
  });
}
