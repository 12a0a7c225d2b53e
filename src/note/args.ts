/**
 * Argument checks for caller bugs. A wrong type is a `TypeError`, a wrong length
 * or out-of-range value a `RangeError` (as in noble). These never see attacker
 * input: anything parsed from the wire fails with `TlogError('MALFORMED')` instead.
 *
 * @module
 */

/**
 * Asserts that `value` is a `Uint8Array`, optionally of an exact length.
 *
 * @throws {TypeError} If `value` is not a `Uint8Array`.
 * @throws {RangeError} If `length` is given and does not match.
 */
export function assertBytes(value: unknown, what: string, length?: number): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) throw new TypeError(`${what}: expected Uint8Array, got ${typeof value}`);
  if (length !== undefined && value.length !== length) {
    throw new RangeError(`${what}: expected Uint8Array of length ${length}, got length=${value.length}`);
  }
}

/**
 * Asserts that `value` is a string.
 *
 * @throws {TypeError} If it is not.
 */
export function assertString(value: unknown, what: string): asserts value is string {
  if (typeof value !== 'string') throw new TypeError(`${what}: expected string, got ${typeof value}`);
}

/**
 * Asserts that `value` is an integer in [0, max].
 *
 * @throws {TypeError} If `value` is not a number.
 * @throws {RangeError} If it is not an integer in range.
 */
export function assertUint(value: unknown, what: string, max: number): asserts value is number {
  if (typeof value !== 'number') throw new TypeError(`${what}: expected number, got ${typeof value}`);
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`${what}: expected an integer in [0, ${max}], got ${value}`);
  }
}

/**
 * Asserts that `value` is an array.
 *
 * @throws {TypeError} If it is not.
 */
export function assertArray(value: unknown, what: string): asserts value is readonly unknown[] {
  if (!Array.isArray(value)) throw new TypeError(`${what}: expected an array, got ${typeof value}`);
}
