/**
 * GET /v1/export: every match, streamed as NDJSON or CSV. Rows are written
 * in ~256 KiB chunks and the handler waits for 'drain' whenever the socket
 * buffer is full, so memory stays flat whatever the size of the export and
 * however slow the reader. A client that goes away stops the scan.
 * Erased references are marked in both formats, as on every read (one
 * vault read per chunk that names references: query/erasure-marks.ts).
 */

import type { RequestHandler, Response } from 'express';
import { z } from 'zod';
import { toBase64 } from '../../bytes/index.js';
import { ByteSink } from '../../query/cbor-json.js';
import { CSV_HEADER, csvRow } from '../../query/csv.js';
import { erasureMarks } from '../../query/erasure-marks.js';
import { markErased } from '../../privacy/annotate.js';
import { FILTER_PARAMS, parseParams, toFilter } from '../../query/filter.js';
import { HASH_SIZE, TILE_WIDTH } from '../../merkle/index.js';
import { HashTiles, writeHitOpen } from '../../query/rows.js';
import { searchChunks } from '../../query/search.js';
import { readTenant } from '../../query/tenant.js';
import { callerKey } from '../auth.js';
import type { AppContext } from '../context.js';
import { requireQueryIndex } from './query.js';
import { TlogError } from '../../errors.js';

const EXPORT_PARAMS = {
  ...FILTER_PARAMS,
  format: z.enum(['ndjson', 'csv']).optional(),
  proofs: z.enum(['true', 'false']).optional(),
};

/** Bytes per socket write. */
const CHUNK_BYTES = 256 * 1024;
/** Entries per leaf read; the next chunk's read runs while this one is written. */
const READ_CHUNK = 256;

function drained(res: Response): Promise<void> {
  // 'close' may already have fired: a reader that left must not leave us waiting.
  if (res.destroyed || res.writableEnded) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

export const exportEvents = (ctx: AppContext): RequestHandler => async (req, res) => {
  requireQueryIndex(ctx);
  const p = parseParams(EXPORT_PARAMS, req.query as Record<string, unknown>);
  const tenant = readTenant(callerKey(res), p.tenant);
  const filter = toFilter(p);
  const format = p.format ?? 'ndjson';
  const proofs = p.proofs === 'true';
  if (proofs && format !== 'ndjson') throw new TlogError('INVALID_PARAMETER', 'proofs=true needs format=ndjson', { details: { parameter: 'proofs' } });
  const treeSize = ctx.log.head.treeSize;

  res.statusCode = 200;
  res.setHeader('Content-Type', format === 'csv' ? 'text/csv; charset=utf-8; header=present' : 'application/x-ndjson; charset=utf-8');
  res.setHeader('Content-Disposition', `attachment; filename="agent-tlog-${tenant}-${treeSize}.${format}"`);
  res.setHeader('X-Tree-Size', String(treeSize));
  // CSV rows are strings; NDJSON rows are bytes: the record's JSON is
  // transcoded straight from the leaf's CBOR (query/cbor-json.ts).
  let csv = format === 'csv' ? CSV_HEADER : '';
  const sink = new ByteSink(CHUNK_BYTES + (CHUNK_BYTES >> 1));
  const size = () => (format === 'csv' ? csv.length : sink.p);
  const gone = () => res.destroyed || res.writableEnded;
  // The sink's buffer goes to the socket as it is (no copy) and comes back
  // once written: two buffers take turns, whatever the size of the export.
  const spare: Uint8Array[] = [];
  const flush = (): boolean => {
    const full = sink.buf;
    return res.write(sink.handOff(spare.pop()), () => {
      if (spare.length < 2) spare.push(full);
    });
  };
  // Leaf hashes from the level-0 hash tiles, read with each chunk's leaves
  // (one tile per 256 rows), not a hash of every leaf.
  const hashes = new HashTiles((tiles) => ctx.log.leafHashTiles(tiles));
  const chunks = searchChunks(ctx.log.store, tenant, filter, {
    order: 'asc',
    treeSize,
    chunk: READ_CHUNK,
    readAhead: READ_CHUNK,
    fillCache: false,
    alongside: (indexes) => hashes.load(indexes),
  });
  // Leaving the loop (return or throw) closes the scan.
  for await (const hits of chunks) {
    const marks = await erasureMarks(hits, ctx.vault);
    for (let k = 0; k < hits.length; k++) {
      const h = hits[k]!;
      const mark = marks?.[k];
      let tile = hashes.tileOf(h.index);
      let at = (h.index % TILE_WIDTH) * HASH_SIZE;
      if (tile === undefined) {
        tile = await ctx.log.leafHash(h.index);
        at = 0;
      }
      if (format === 'csv') csv += csvRow(h.index, toBase64(tile.subarray(at, at + HASH_SIZE)), mark === undefined ? h.record : markErased(h.record, mark));
      else {
        writeHitOpen(sink, h, tile, at, mark);
        if (proofs) {
          const leafHash = tile.slice(at, at + HASH_SIZE);
          const r = await ctx.log.receipt({ eventId: h.record.event.event_id, index: h.index, leaf: h.leaf, leafHash, loggedAt: h.record.logged_at });
          sink.text(`,"tlog_proof":${JSON.stringify(r.tlog_proof)}`);
        }
        sink.byte(0x7d);
        sink.byte(0x0a);
      }
      if (size() >= CHUNK_BYTES) {
        if (gone()) return; // the reader left
        const ok = format === 'csv' ? res.write(csv) : flush();
        csv = '';
        if (!ok) await drained(res);
        if (gone()) return;
      }
    }
  }
  res.end(format === 'csv' ? csv : sink.buf.subarray(0, sink.p));
};
