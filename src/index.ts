/** agent-tlog: the server as a library. Auditors want `agent-tlog/verifier`. */
export { startServer, type RunningServer } from './server.js';
export { loadConfig, type Config } from './config.js';
export { ERRORS, TlogError, type ErrorCode } from './errors.js';
export * as merkle from './merkle/index.js';
export * as note from './note/index.js';
export { startWitness, type RunningWitness } from './witness/server.js';
export { loadWitnessConfig, type WitnessConfig } from './witness/config.js';
