/**
 * What a LevelDB file holds, decoded, for the byte searches: a raw search
 * misses bytes that snappy compressed (a back-reference to an earlier copy
 * in the block), that key prefix compression shares with the previous key,
 * or that a write-ahead log record split across its 32 KiB blocks. Written
 * from the LevelDB file formats (table_format.md, log_format.md) and the
 * snappy format description; the tests search the decoded parts as well as
 * the raw file.
 *
 * Lenient on purpose: a file being written (a table in progress, a log's
 * torn tail) decodes as far as it goes, and whatever does not parse is still
 * searched raw by the caller.
 */

/** Snappy raw-format decompression (tag bytes: literal, copy with 1-, 2- or 4-byte offset). */
export function snappyDecompress(src: Uint8Array): Uint8Array {
  let p = 0;
  let len = 0;
  for (let shift = 0; ; shift += 7) {
    const b = src[p++]!;
    len |= (b & 0x7f) << shift;
    if (b < 0x80) break;
  }
  const out = new Uint8Array(len);
  let o = 0;
  while (p < src.length && o < len) {
    const tag = src[p++]!;
    const kind = tag & 3;
    if (kind === 0) {
      let n = tag >> 2;
      if (n >= 60) {
        const bytes = n - 59;
        n = 0;
        for (let i = 0; i < bytes; i++) n |= src[p++]! << (8 * i);
      }
      n += 1;
      out.set(src.subarray(p, p + n), o);
      p += n;
      o += n;
      continue;
    }
    let n: number;
    let offset: number;
    if (kind === 1) {
      n = ((tag >> 2) & 7) + 4;
      offset = ((tag >> 5) << 8) | src[p++]!;
    } else if (kind === 2) {
      n = (tag >> 2) + 1;
      offset = src[p]! | (src[p + 1]! << 8);
      p += 2;
    } else {
      n = (tag >> 2) + 1;
      offset = (src[p]! | (src[p + 1]! << 8) | (src[p + 2]! << 16) | (src[p + 3]! << 24)) >>> 0;
      p += 4;
    }
    if (offset === 0 || offset > o) throw new Error('snappy: bad copy offset');
    // Byte by byte: a copy may overlap its own output (a run).
    for (let i = 0; i < n; i++, o++) out[o] = out[o - offset]!;
  }
  return out.subarray(0, o);
}

function varint(b: Uint8Array, p: number): [number, number] {
  let v = 0;
  let mul = 1;
  for (;;) {
    const x = b[p++]!;
    v += (x & 0x7f) * mul;
    if (x < 0x80) return [v, p];
    mul *= 128;
  }
}

/** A table block's contents (decompressed when its trailer says snappy). */
function blockAt(file: Uint8Array, offset: number, size: number): Uint8Array {
  const body = file.subarray(offset, offset + size);
  const type = file[offset + size];
  return type === 1 ? snappyDecompress(body) : body;
}

/** The full keys and values of a table block (keys rebuilt from their shared prefixes). */
function blockEntries(block: Uint8Array): { key: Uint8Array; value: Uint8Array }[] {
  const restarts = new DataView(block.buffer, block.byteOffset, block.byteLength).getUint32(block.length - 4, true);
  const end = block.length - 4 - 4 * restarts;
  const out: { key: Uint8Array; value: Uint8Array }[] = [];
  let prev = new Uint8Array(0);
  let p = 0;
  while (p < end) {
    let shared: number;
    let unshared: number;
    let vlen: number;
    [shared, p] = varint(block, p);
    [unshared, p] = varint(block, p);
    [vlen, p] = varint(block, p);
    const key = new Uint8Array(shared + unshared);
    key.set(prev.subarray(0, shared));
    key.set(block.subarray(p, p + unshared), shared);
    p += unshared;
    out.push({ key, value: block.subarray(p, p + vlen) });
    p += vlen;
    prev = key;
  }
  return out;
}

/** Every key and value of a table file (`.ldb`, `.sst`), data blocks found through its index block. */
function tableParts(file: Uint8Array): Uint8Array[] {
  const FOOTER = 48;
  if (file.length < FOOTER) return [];
  let p = file.length - FOOTER;
  let metaOffset: number;
  let metaSize: number;
  let indexOffset: number;
  let indexSize: number;
  [metaOffset, p] = varint(file, p);
  [metaSize, p] = varint(file, p);
  [indexOffset, p] = varint(file, p);
  [indexSize, p] = varint(file, p);
  void metaOffset;
  void metaSize;
  const parts: Uint8Array[] = [];
  for (const { value } of blockEntries(blockAt(file, indexOffset, indexSize))) {
    let offset: number;
    let size: number;
    let q = 0;
    [offset, q] = varint(value, q);
    [size, q] = varint(value, q);
    for (const e of blockEntries(blockAt(file, offset, size))) parts.push(e.key, e.value);
  }
  return parts;
}

/** A write-ahead log (`.log`): its records with their fragments joined across 32 KiB blocks. */
function logRecords(file: Uint8Array): Uint8Array[] {
  const BLOCK = 32768;
  const HEADER = 7;
  const records: Uint8Array[] = [];
  let pending: Uint8Array[] = [];
  let p = 0;
  while (p + HEADER <= file.length) {
    const left = BLOCK - (p % BLOCK);
    if (left < HEADER) {
      p += left;
      continue;
    }
    const len = file[p + 4]! | (file[p + 5]! << 8);
    const type = file[p + 6]!;
    if (type === 0 && len === 0) {
      p += left; // zero padding, or preallocated space
      continue;
    }
    const data = file.subarray(p + HEADER, p + HEADER + len);
    p += HEADER + len;
    if (type === 1) records.push(data); // FULL
    else if (type === 2) pending = [data]; // FIRST
    else if (type === 3) pending.push(data); // MIDDLE
    else if (type === 4) {
      pending.push(data);
      records.push(Buffer.concat(pending));
      pending = [];
    }
  }
  if (pending.length > 0) records.push(Buffer.concat(pending));
  return records;
}

/**
 * The decoded parts of a LevelDB file by its name: a table's keys and
 * values, a log's (the WAL's, the MANIFEST's) records; nothing for other
 * files. Throws nothing: what does not decode is left to the raw search.
 */
export function decodedParts(name: string, file: Uint8Array): Uint8Array[] {
  try {
    if (name.endsWith('.ldb') || name.endsWith('.sst')) return tableParts(file);
    if (name.endsWith('.log') || /MANIFEST-\d+$/.test(name)) return logRecords(file);
  } catch {
    // A torn or unfamiliar file: the raw bytes are still searched.
  }
  return [];
}
