#!/usr/bin/env node
/**
 * `npm start` (and `dws-encryption serve`): serve the API with configuration from the environment until
 * SIGINT/SIGTERM. Run directly, this module serves; imported (by the CLI), it only exports `serve`.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { announceBootstrapCredential } from './bootstrap.js';
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
    announceBootstrapCredential(bootstrap, server.url, config.dataDir, log);
  } else {
    log.info({ accessKey: bootstrap.accessKey, projectId: bootstrap.projectId }, 'bootstrap credential');
  }

  // Graceful shutdown (see RunningServer.close): exit 0 once requests, jobs and the store are closed; exit 1
  // if that takes longer than DWS_SHUTDOWN_TIMEOUT_SECONDS, or on a second signal (Ctrl-C twice). Log
  // writes never block (src/log-output.ts), so nothing can hold the forced exit at the deadline.
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    log.info({ signal }, 'shutting down');
    // Not unref'd: the deadline holds even if nothing else is left to keep the process running.
    setTimeout(() => {
      log.error('shutdown took too long; exiting');
      process.exit(1);
    }, config.shutdownTimeoutSeconds * 1000);
    try {
      await server.close();
    } catch (error) {
      log.error({ err: error }, 'shutdown failed');
      process.exit(1);
    }
    log.info('stopped');
    // The last lines get a moment to reach a reader that is still there; a stalled one is not waited for.
    await server.logOutput?.drain(500);
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
