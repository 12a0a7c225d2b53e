/** The string rules' fast paths decide exactly as the Unicode regexes they stand in for. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isPrintable } from '../../src/events/strings.js';
import { EventSchema } from '../../src/events/schema.js';

// The reference definitions (spec/events.md: identifiers, labels, free text).
const printable = (s: string) => /^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]+$/u.test(s) && /^\S(?:[^]*\S)?$/u.test(s);
const freeText = (s: string) => /^(?:[\t\n\r]|[^\p{Cc}])*$/u.test(s);

const strings = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.string({ unit: fc.constantFrom(' ', '\t', '\n', '\u007f', '\u0085', '\u200b', '\u2028', 'a', 'é', '~', '\u0000'), maxLength: 8 }),
  fc.string({ maxLength: 12 }),
);

describe('string rules', () => {
  it('isPrintable agrees with the regex definition', () => {
    fc.assert(fc.property(strings, (s) => {
        expect(isPrintable(s)).toBe(printable(s));
      }), { numRuns: 5000 });
    for (const s of ['', ' ', 'a', ' a', 'a ', 'a b', '\u007f', 'x\u0085', 'id\u200b', '~!']) expect(isPrintable(s), JSON.stringify(s)).toBe(printable(s));
  });

  it('free text (reasoning.summary) accepts exactly what the regex accepts', () => {
    fc.assert(
      fc.property(strings, (s) => {
        const ok = EventSchema.safeParse({ actor: { type: 'agent', id: 'a' }, action: { type: 't' }, reasoning: { summary: s } }).success;
        expect(ok).toBe(freeText(s));
      }),
      { numRuns: 3000 },
    );
  });
});
