/**
 * The `dws-encryption` program: its commands and how an outcome becomes an exit code.
 * Exit codes: 0 success; 1 the service refused (error code on stderr) or a job failed; 2 usage error
 * (bad flag, missing credentials); 3 the service cannot be reached.
 */
import { Command, CommanderError } from 'commander';
import { packageVersion } from '../package-info.js';
import { ApiError, ConnectionError, JobTimeoutError } from './client.js';
import { registerClientCommands } from './commands.js';
import {
  type CliIo,
  cliIo,
  DEFAULT_ENDPOINT,
  JobFailedError,
  processIo,
  UsageError,
  withCliIo,
} from './context.js';
import { registerCredentials } from './credentials.js';
import { registerDemo } from './demo.js';
import { registerEmulator } from './emulator.js';
import { registerHashPassword } from './hash-password.js';

export const EXIT = { ok: 0, api: 1, usage: 2, connection: 3 } as const;

export function buildProgram(): Command {
  const io = cliIo();
  const program = new Command('dws-encryption')
    .configureOutput({ writeOut: (text) => io.stdout(text), writeErr: (text) => io.stderr(text) })
    .description('Self-hosted GaussDB(DWS) cluster-encryption API with a real KMS: service and client.')
    .version(packageVersion(), '-V, --version')
    .option('--endpoint <url>', `service URL (env DWS_ENDPOINT; default ${DEFAULT_ENDPOINT})`)
    .option('--ak <access-key>', 'access key (env HUAWEICLOUD_SDK_AK)')
    .option('--sk <secret-key>', 'secret key (env HUAWEICLOUD_SDK_SK; prefer the variable: flags show in ps)')
    .option('--project-id <id>', 'project id, 32 hex characters (env HUAWEICLOUD_SDK_PROJECT_ID)')
    .option('--json', 'print the API JSON instead of tables')
    .showSuggestionAfterError()
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .exitOverride()
    .addHelpText(
      'after',
      `
Examples:
  dws-encryption serve                                   # start the service (same as npm start)
  dws-encryption demo                                    # fill a project to explore
  dws-encryption keys create my-key --spec AES_256
  dws-encryption clusters create analytics --datastore-version 9.1.0
  dws-encryption encrypt <cluster-id> --master-key-id <key-id>
  dws-encryption info <cluster-id>
  dws-encryption audit list --all                        # the project's audit trail
  dws-encryption hash-password                           # a password_hash for the identities file
  dws-encryption credentials reset                       # a new secret for the generated bootstrap credential
  dws-encryption reset && dws-encryption seed seed.json  # tests: a clean, seeded state (docs/testing.md)
  dws-encryption faults add --operation RotateKey --status 503 --count 1

Exit codes: 0 ok, 1 refused by the service or job failed, 2 usage error, 3 service unreachable.`,
    );

  program
    .command('serve')
    .description('start the service (the same as npm start); configuration from the environment')
    .option('--port <port>', 'listen on this port (env PORT, default 8080)')
    .option('--host <host>', 'bind this address (env HOST, default 127.0.0.1)')
    .option('--data-dir <dir>', 'data directory (env DATA_DIR, default ./data)')
    .action(async (opts: { port?: string; host?: string; dataDir?: string }) => {
      const { serve } = await import('../main.js');
      await serve({
        ...cliIo().env,
        ...(opts.port !== undefined ? { PORT: opts.port } : {}),
        ...(opts.host !== undefined ? { HOST: opts.host } : {}),
        ...(opts.dataDir !== undefined ? { DATA_DIR: opts.dataDir } : {}),
      });
    });

  registerDemo(program);
  registerClientCommands(program);
  registerEmulator(program);
  registerHashPassword(program);
  registerCredentials(program);
  return program;
}

function fail(code: number, message: string): number {
  cliIo().stderr(`${message}\n`);
  return code;
}

/**
 * Runs the CLI; resolves with the exit code (the process is left running while `serve` serves).
 * `io`: the process's streams and environment, or (tests) others, for runs inside one process.
 */
export function run(argv: string[], io: CliIo = processIo()): Promise<number> {
  return withCliIo(io, () => runWithIo(argv));
}

async function runWithIo(argv: string[]): Promise<number> {
  const program = buildProgram();
  const json = argv.includes('--json');
  try {
    await program.parseAsync(argv);
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit 0; commander has already printed the reason of a usage error.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (error instanceof UsageError) return fail(EXIT.usage, `error: ${error.message}`);
    if (error instanceof ApiError) {
      const id = error.requestId ? ` (request id ${error.requestId})` : '';
      return fail(EXIT.api, `${error.code}: ${error.message}${id}`);
    }
    if (error instanceof JobFailedError) {
      if (json) cliIo().stdout(`${JSON.stringify(error.job, null, 2)}\n`);
      // failed_detail reads `DWS.0408:The master key is not enabled.`
      const detail = error.job.failed_detail ?? error.message;
      const match = /^([A-Z]+\.\d{4}):\s*(.*)$/s.exec(detail);
      const text = match ? `${match[1]}: ${match[2]}` : detail;
      return fail(EXIT.api, `${text} (job ${error.job.job_id} ${error.job.status})`);
    }
    if (error instanceof JobTimeoutError) return fail(EXIT.api, `error: ${error.message}`);
    if (error instanceof ConnectionError) {
      return fail(
        EXIT.connection,
        `error: ${error.message}\nIs the service running? Start it with \`dws-encryption serve\` (or npm start), or set DWS_ENDPOINT / --endpoint.`,
      );
    }
    const err = error as NodeJS.ErrnoException;
    if (err?.code === 'EADDRINUSE') {
      return fail(EXIT.usage, `error: ${err.message}: the port is taken; choose another with --port.`);
    }
    return fail(EXIT.api, `error: ${err instanceof Error ? err.message : String(err)}`);
  }
}
