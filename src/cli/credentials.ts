/**
 * `dws-encryption credentials reset`: a new secret for the generated bootstrap credential, printed to
 * standard output — the way back in when the secret shown at the first start was lost. It opens the
 * store directly (configuration from the environment, as `serve`): whoever can run it can read DATA_DIR
 * (SQLite and its root key file) or holds DATABASE_URL and DWS_ROOT_KEY (PostgreSQL). Instances already
 * running keep accepting the old secret until they restart.
 */
import type { Command } from 'commander';
import { resetBootstrapSecret } from '../bootstrap.js';
import { ConfigError, loadConfig } from '../config.js';
import { loadRootKey } from '../server.js';
import { isPostgresUrl, openDatabase } from '../store/database.js';
import { cliIo, UsageError } from './context.js';

export function registerCredentials(program: Command): void {
  const credentials = program.command('credentials').description('the bootstrap credential');
  credentials
    .command('reset')
    .description(
      'give the generated bootstrap credential a new secret and print it (restart running instances)',
    )
    .option('--data-dir <dir>', 'data directory (env DATA_DIR, default ./data)')
    .action(async (opts: { dataDir?: string }) => {
      const io = cliIo();
      let config: ReturnType<typeof loadConfig>;
      try {
        config = loadConfig({ ...io.env, ...(opts.dataDir !== undefined ? { DATA_DIR: opts.dataDir } : {}) });
      } catch (error) {
        if (error instanceof ConfigError) throw new UsageError(error.message);
        throw error;
      }
      const rootKey = loadRootKey(config, isPostgresUrl(config.databaseUrl));
      const database = await openDatabase({ url: config.databaseUrl });
      try {
        const credential = await resetBootstrapSecret(database, rootKey, config).catch((error: Error) => {
          throw new UsageError(error.message);
        });
        io.stdout(
          [
            `export HUAWEICLOUD_SDK_AK=${credential.accessKey}`,
            `export HUAWEICLOUD_SDK_SK=${credential.secretKey}`,
            `export HUAWEICLOUD_SDK_PROJECT_ID=${credential.projectId}`,
            '',
          ].join('\n'),
        );
        io.stderr(
          'The old secret no longer works once the service restarts; restart running instances now.\n',
        );
      } finally {
        await database.close();
      }
    });
}
