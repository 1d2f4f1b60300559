/**
 * `dws-encryption`: the service as a library. Most users want `dws-encryption/testing` (startDws for
 * tests) or the `dws-encryption` command; this entry starts a server from a configuration.
 */
export { type Config, ConfigError, loadConfig } from './config.js';
export { type SignRequestInput, signRequest } from './crypto/signing.js';
export { type RunningServer, type StartOptions, startServer } from './server.js';
