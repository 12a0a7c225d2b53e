/** Public, unauthenticated reads: checkpoint, hash tiles, log info, proofs. */

import type { Request, RequestHandler } from 'express';
import { toBase64 } from '../../bytes/index.js';
import { TlogError } from '../../errors.js';
import { parseTilePath } from '../../merkle/index.js';
import type { AppContext } from '../context.js';
import { sendBytes, sendJson } from '../json.js';
import { parseCount, parseHashParam } from '../params.js';

const IMMUTABLE = 'public, max-age=31536000, immutable';

export const getCheckpoint = (ctx: AppContext): RequestHandler => (_req, res) => {
  // Mutable: clients must not cache it beyond a few seconds (tlog-tiles).
  res.setHeader('Cache-Control', 'no-cache');
  sendBytes(res, 'text/plain; charset=utf-8', ctx.log.checkpoint);
};

/**
 * The `*rest` wildcard of a route, rejoined (express 5 gives the segments);
 * undefined if the path as sent holds a percent-escape. Express decodes each
 * segment (`0%2f000.p%2f5` would read as `0/000.p/5`), and a tile path is
 * digits, `x`, `.p` and `/` only: an escaped one is not canonical, and must
 * not be answered as immutable under a second URL.
 */
export function restPath(req: Request): string | undefined {
  if (req.path.includes('%')) return undefined;
  const rest = req.params.rest as unknown;
  return Array.isArray(rest) ? rest.join('/') : String(rest ?? '');
}

export const getTile = (ctx: AppContext): RequestHandler => async (req, res) => {
  const rest = restPath(req);
  const id = rest === undefined ? undefined : parseTilePath(rest);
  if (!id || id.level === 'entries') throw new TlogError('INVALID_PARAMETER', 'not a tile path: tile/<L>/<N>[.p/<W>] (C2SP tlog-tiles)');
  const data = await ctx.log.tile(id.level, id.index, id.width);
  if (!data) throw new TlogError('NOT_FOUND', 'the tile is beyond the current tree');
  // Any tile path names fixed bytes forever: partial tiles are prefixes of full ones.
  res.setHeader('Cache-Control', IMMUTABLE);
  sendBytes(res, 'application/octet-stream', data);
};

export const getLogInfo = (ctx: AppContext): RequestHandler => (_req, res) => {
  const head = ctx.log.head;
  res.setHeader('Cache-Control', 'no-cache');
  sendJson(res, 200, {
    origin: ctx.log.origin,
    verifier_key: ctx.verifierKey,
    // Every key the log has signed with, so receipts from before a key rotation stay verifiable.
    verifier_keys: ctx.logKeys ?? [{ verifier_key: ctx.verifierKey, status: 'active' }],
    tree_size: head.treeSize,
    root_hash: toBase64(head.rootHash),
  });
};

export const getInclusionProof = (ctx: AppContext): RequestHandler => async (req, res) => {
  const treeSize = parseCount(req.query.tree_size, 'tree_size');
  let index: number;
  let leafHash: Uint8Array | undefined;
  if (req.query.leaf_hash !== undefined) {
    if (req.query.index !== undefined) throw new TlogError('INVALID_PARAMETER', 'give index or leaf_hash, not both');
    leafHash = parseHashParam(req.query.leaf_hash, 'leaf_hash');
    const found = await ctx.log.findLeafHash(leafHash);
    if (found === undefined || found >= treeSize) throw new TlogError('NOT_FOUND', 'no entry with that leaf hash in the tree of that size');
    index = found;
  } else {
    index = parseCount(req.query.index, 'index');
  }
  if (treeSize === 0) throw new TlogError('INVALID_PARAMETER', 'the empty tree has no entries');
  const proof = await ctx.log.inclusionProof(index, treeSize);
  leafHash ??= ctx.log.leafHashIfCached(index) ?? (await ctx.log.leafHash(index));
  sendJson(res, 200, { index, tree_size: treeSize, leaf_hash: toBase64(leafHash), proof: proof.map(toBase64) });
};

export const getConsistencyProof = (ctx: AppContext): RequestHandler => async (req, res) => {
  const from = parseCount(req.query.from, 'from');
  const to = parseCount(req.query.to, 'to');
  const proof = await ctx.log.consistencyProof(from, to);
  sendJson(res, 200, { from, to, proof: proof.map(toBase64) });
};

export const getHealth = (ctx: AppContext): RequestHandler => (_req, res) => {
  res.setHeader('Cache-Control', 'no-store');
  sendJson(res, 200, { status: 'ok', tree_size: ctx.log.head.treeSize, pending: ctx.log.pending, waiting_turns: ctx.turns.depth, body_bytes: ctx.bodyBudget.inUse });
};
