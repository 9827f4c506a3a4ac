/**
 * Shards of *encoded* image files (JPEG/PNG bytes as they were on disk), for image-folder datasets:
 * "SNEF" magic, uint32 LE header length, JSON header (one entry per file: label, byte length, source
 * name), then the files back to back. Decoding happens while streaming, at the resolution a step needs,
 * so a shard costs its compressed size in memory, never its decoded size.
 */
import { DatasetFormatError } from './errors';

const MAGIC = [0x53, 0x4e, 0x45, 0x46]; // "SNEF"

/** One file of a shard. */
export interface EncodedImage {
  readonly label: number;
  /** Where it came from (relative path within its source), for error messages and audit. */
  readonly name: string;
  readonly bytes: Uint8Array;
}

interface EncodedShardHeader {
  version: 1;
  entries: { label: number; bytes: number; name: string }[];
}

/** Packs files into one shard. */
export function packEncodedShard(images: readonly EncodedImage[]): Uint8Array {
  const header: EncodedShardHeader = { version: 1, entries: images.map((i) => ({ label: i.label, bytes: i.bytes.length, name: i.name })) };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const body = images.reduce((a, i) => a + i.bytes.length, 0);
  const buf = new Uint8Array(8 + json.length + body);
  buf.set(MAGIC, 0);
  new DataView(buf.buffer).setUint32(4, json.length, true);
  buf.set(json, 8);
  let o = 8 + json.length;
  for (const i of images) {
    buf.set(i.bytes, o);
    o += i.bytes.length;
  }
  return buf;
}

/** Parses a shard; the images are views into `bytes` (no copy). `name` (the object key) appears in errors. */
export function unpackEncodedShard(bytes: Uint8Array, name: string): EncodedImage[] {
  for (let i = 0; i < 4; i++) {
    if (bytes[i] !== MAGIC[i]) throw new DatasetFormatError(name, i, 'encoded-shard magic "SNEF"', `byte 0x${(bytes[i] ?? 0).toString(16)}`);
  }
  if (bytes.length < 8) throw new DatasetFormatError(name, bytes.length, 'a uint32 header length at byte 4', 'end of data');
  const hlen = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(4, true);
  let header: EncodedShardHeader;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + hlen))) as EncodedShardHeader;
  } catch {
    throw new DatasetFormatError(name, 8, `a JSON header of ${hlen} bytes`, 'unparseable text');
  }
  const expected = 8 + hlen + header.entries.reduce((a, e) => a + e.bytes, 0);
  if (header.version !== 1 || bytes.length !== expected) {
    throw new DatasetFormatError(name, Math.min(bytes.length, expected), `version 1 and ${expected} bytes in total`, `version ${header.version}, ${bytes.length} bytes`);
  }
  let o = 8 + hlen;
  return header.entries.map((e) => {
    const img = { label: e.label, name: e.name, bytes: bytes.subarray(o, o + e.bytes) };
    o += e.bytes;
    return img;
  });
}
