#!/usr/bin/env node
/**
 * `npm start` (and `dws-encryption serve`): serve the API with configuration from the environment until
 * SIGINT/SIGTERM. Run directly, this module serves; imported (by the CLI), it only exports `serve`.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig } from './config.js';
import { type RunningServer, startServer } from './server.js';

export async function serve(env: Record<string, string | undefined> = process.env): Promise<RunningServer> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`dws-encryption: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
  let server: RunningServer;
  try {
    server = await startServer(config);
  } catch (error) {
    // A bad identities file (DWS_IAM_FILE) is a configuration error found while starting.
    if (error instanceof ConfigError) {
      console.error(`dws-encryption: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
  const { bootstrap } = server;
  const log = server.app.log;
  log.info(
    { url: server.url, store: config.databaseUrl.startsWith('postgres') ? 'postgresql' : config.databaseUrl },
    'dws-encryption listening',
  );
  if (bootstrap.generated) {
    // Printed once, on the start that generated it: the secret is stored sealed and never shown again.
    process.stdout.write(
      [
        '',
        'A bootstrap credential was generated (shown only this once; keep it):',
        `  export HUAWEICLOUD_SDK_AK=${bootstrap.accessKey}`,
        `  export HUAWEICLOUD_SDK_SK=${bootstrap.secretKey}`,
        `  export HUAWEICLOUD_SDK_PROJECT_ID=${bootstrap.projectId}`,
        `  export DWS_ENDPOINT=${server.url}`,
        'Try: GET /v1/$HUAWEICLOUD_SDK_PROJECT_ID/clusters/<cluster_id>/encrypt-info, signed with SDK-HMAC-SHA256 (see README),',
        'or, in another terminal with these variables: npx dws-encryption demo',
        '',
      ].join('\n'),
    );
  } else {
    log.info({ accessKey: bootstrap.accessKey, projectId: bootstrap.projectId }, 'bootstrap credential');
  }

  // Graceful shutdown (see RunningServer.close): exit 0 once requests, jobs and the store are closed; exit 1
  // if that takes longer than DWS_SHUTDOWN_TIMEOUT_SECONDS, or on a second signal (Ctrl-C twice).
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    log.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      log.error('shutdown took too long; exiting');
      process.exit(1);
    }, config.shutdownTimeoutSeconds * 1000);
    timer.unref();
    try {
      await server.close();
    } catch (error) {
      log.error({ err: error }, 'shutdown failed');
      process.exit(1);
    }
    log.info('stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  return server;
}

function invokedDirectly(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (invokedDirectly()) {
  serve().catch((error) => {
    console.error('dws-encryption failed to start:', error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
