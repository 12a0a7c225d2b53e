/**
 * The server's pino logger. Log lines must never carry a token, a secret or
 * personal data (spec/limits.md §5): the code logs no request bodies and no
 * headers, and these redaction paths are the second gate, for a field that
 * slips in anyway (an error object of a client library, a future log call).
 */

import { pino, type DestinationStream, type Logger } from 'pino';

export const REDACT_PATHS: readonly string[] = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'headers.authorization',
  'headers.cookie',
  'authorization',
  'cookie',
  'token',
  '*.token',
  'secret',
  '*.secret',
  'password',
  '*.password',
  'body',
  '*.body',
  'req.body',
  // node:http client errors carry the raw request bytes, headers included.
  'rawPacket',
  'err.rawPacket',
  'err.cause.rawPacket',
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  const opts = { level, redact: { paths: [...REDACT_PATHS], censor: '[redacted]' } };
  return destination ? pino(opts, destination) : pino(opts);
}
