/**
 * Shared test helpers: the real vectors in /work/shared/vectors (read, never
 * copied into this repo) and an assertion for coded errors.
 */

import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { TlogError, type ErrorCode } from '../../src/errors.js';

const VECTORS = new URL('../../../shared/vectors/', import.meta.url);

/** Raw bytes of a vector file, path relative to shared/vectors/. */
export function vectorBytes(path: string): Uint8Array {
  return new Uint8Array(readFileSync(new URL(path, VECTORS)));
}

function vectorJson<T>(path: string): T {
  return JSON.parse(readFileSync(new URL(path, VECTORS), 'utf8')) as T;
}

interface KeyPair {
  vkey: string;
  skey: string;
}

export interface NoteVectors {
  go_x_mod_v0_7_0: {
    PeterNeumann: KeyPair & { text: string; signed_note: string; signature_line: string; key_id_hex: string };
    EnochRoot: { vkey: string; signature_line_over_same_text: string };
    doubly_signed_example_output: string;
    bad_vkeys_must_reject: string[];
    sumdb_test_server_keys: KeyPair;
  };
  c2sp_signed_note_md: { vkey: string; signed_note: string; intro_example_note_no_key_published: string };
  transparency_dev_formats_test_keys: { keys: Record<string, KeyPair> };
  key_id_vectors: {
    sigsum_type04_key: { vkey: string; string_with_arbitrary_id: string };
    formats_cosigv1_vkeys_accepted: Record<string, string>;
    formats_bad_vkeys: Record<string, string>;
  };
}

export interface CheckpointVectors {
  tessera_testdata_log: { origin: string; vkey: string; skey: string; entries_in_order_ascii: string[]; checkpoints_by_size: Record<string, string> };
  transparency_dev_witness_monkeys: { keys: Record<'monkeys' | 'bananas' | 'witness', KeyPair>; checkpoint_size5: string; checkpoint_size8: string };
  sigsum_seed17: { ed25519_seed_hex: string; signed_checkpoint: string; format_only_example: string };
  sum_golang_org: {
    vkey: string;
    checkpoints: { note: string }[];
    extra_signatures_over_6476701_body: { vkeys: string[]; signature_lines: string[] };
  };
  static_ct_rfc6962_type05_example: { checkpoint: string };
  c2sp_example_no_key_published: { checkpoint: string };
  go_sumdb_tree_note: { FormatTree_golden: string; tree: { N: number } };
}

export interface WitnessVectors {
  litewitness_sigsum_log: { log_ed25519_pubkey_hex: string; origin: string; requests_in_order: { body: string; status: number }[] };
}

export const noteVectors = vectorJson<NoteVectors>('note.json');
export const checkpointVectors = vectorJson<CheckpointVectors>('checkpoint.json');
export const witnessVectors = vectorJson<WitnessVectors>('witness.json');

/** Asserts that `fn` throws a TlogError with `code` (and, optionally, a message matching `message`). */
export function expectTlogError(fn: () => unknown, code: ErrorCode, message?: RegExp): TlogError {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, `expected TlogError ${code}`).toBeInstanceOf(TlogError);
  const err = thrown as TlogError;
  expect(err.code).toBe(code);
  if (message !== undefined) expect(err.message).toMatch(message);
  return err;
}
