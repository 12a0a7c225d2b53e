/**
 * The server's logger (pino, JSON lines). Nothing secret reaches a line:
 * tokens are redacted by path, and every string field, the message and
 * errors' messages and stacks pass through the same scrubber as events.
 * Personal data is kept out by construction: handlers never log bodies,
 * subject ids or URLs (errors name the route pattern).
 */

import { pino, stdSerializers, type DestinationStream, type Logger } from 'pino';
import { scrubEvent, scrubText, type CompiledRules } from './scrub/index.js';

export function createLogger(level: string, rules: CompiledRules, destination?: DestinationStream): Logger {
  const text = (s: unknown) => (typeof s === 'string' ? scrubText(s, rules) : s);
  const options = {
    level,
    redact: ['req.headers.authorization', 'headers.authorization', 'token', '*.token'],
    formatters: {
      // Runs before the serializers, so `err` is still an Error here: its own serializer scrubs it.
      log(obj: Record<string, unknown>) {
        const { err, ...rest } = obj;
        const clean = scrubEvent(rest, rules).event as Record<string, unknown>;
        return err === undefined ? clean : { ...clean, err };
      },
    },
    serializers: {
      msg: text,
      err: (e: Error) => {
        // pino's serialized error is not a plain object (its own prototype): copy it to one first.
        const plain = JSON.parse(JSON.stringify(stdSerializers.err(e))) as Record<string, unknown>;
        return scrubEvent(plain, rules).event;
      },
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
