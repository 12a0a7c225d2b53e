/**
 * The server's pino logger. Log lines must never carry a token, a secret or
 * personal data (spec/limits.md §5): the code logs no request bodies, no
 * headers and no URLs (errors name the route pattern). Two more gates stand
 * behind that, for a field that slips in anyway (an error object of a client
 * library, a future log call):
 *   1. redaction by path (below);
 *   2. every string field, the message, and errors' messages and stacks go
 *      through the same secret scrubber as events (spec/scrubbing.md).
 */

import { pino, stdSerializers, type DestinationStream, type Logger } from 'pino';
import { compileRules, scrubEvent, scrubText, withDefaults, type CompiledRules } from '../scrub/index.js';

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

let defaultRules: CompiledRules | undefined;

/** `rules`: the server's compiled scrubbing rules (defaults plus TLOG_SCRUB_RULES); the defaults when absent. */
export function createLogger(level: string, destination?: DestinationStream, rules?: CompiledRules): Logger {
  const r = rules ?? (defaultRules ??= compileRules(withDefaults(undefined)));
  const text = (s: unknown) => (typeof s === 'string' ? scrubText(s, r) : s);
  const opts = {
    level,
    redact: { paths: [...REDACT_PATHS], censor: '[redacted]' },
    formatters: {
      // Runs before the serializers, so `err` is still an Error here: its own serializer scrubs it.
      log(obj: Record<string, unknown>) {
        const { err, ...rest } = obj;
        const clean = scrubEvent(rest, r).event as Record<string, unknown>;
        return err === undefined ? clean : { ...clean, err };
      },
    },
    serializers: {
      msg: text,
      err: (e: Error) => {
        // pino's serialized error is not a plain object (its own prototype): copy it to one first.
        const plain = JSON.parse(JSON.stringify(stdSerializers.err(e))) as Record<string, unknown>;
        return scrubEvent(plain, r).event;
      },
    },
  };
  return destination ? pino(opts, destination) : pino(opts);
}
