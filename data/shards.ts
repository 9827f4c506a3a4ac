/**
 * A self-describing binary shard format so a prepared dataset can be stored in MinIO and read by
 * workers on other machines: "SNDS" magic, uint32 LE header length, JSON header, int32 LE labels,
 * uint8 NHWC images. The storage layer moves the bytes; this module only packs and parses them.
 */
import { DatasetFormatError } from './errors';
import { imageBytes, type ImageSet } from './types';

const MAGIC = [0x53, 0x4e, 0x44, 0x53]; // "SNDS"

interface ShardHeader {
  version: 1;
  count: number;
  height: number;
  width: number;
  channels: number;
}

/** Splits a set into shards of at most `imagesPerShard` images. */
export function packShards(set: ImageSet, imagesPerShard = 10000): Uint8Array[] {
  const per = imageBytes(set);
  const out: Uint8Array[] = [];
  for (let start = 0; start < set.count; start += imagesPerShard) {
    const count = Math.min(imagesPerShard, set.count - start);
    const header: ShardHeader = { version: 1, count, height: set.height, width: set.width, channels: set.channels };
    const json = new TextEncoder().encode(JSON.stringify(header));
    const buf = new Uint8Array(8 + json.length + 4 * count + per * count);
    const view = new DataView(buf.buffer);
    buf.set(MAGIC, 0);
    view.setUint32(4, json.length, true);
    buf.set(json, 8);
    let o = 8 + json.length;
    for (let i = 0; i < count; i++, o += 4) view.setInt32(o, set.labels[start + i] as number, true);
    buf.set(set.images.subarray(start * per, (start + count) * per), o);
    out.push(buf);
  }
  return out;
}

/** Parses one shard; `name` (e.g. the object key) appears in error messages. */
export function unpackShard(bytes: Uint8Array, name: string): ImageSet {
  for (let i = 0; i < 4; i++) {
    if (bytes[i] !== MAGIC[i]) throw new DatasetFormatError(name, i, 'shard magic "SNDS"', `byte 0x${(bytes[i] ?? 0).toString(16)}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 8) throw new DatasetFormatError(name, bytes.length, 'a uint32 header length at byte 4', 'end of data');
  const hlen = view.getUint32(4, true);
  let header: ShardHeader;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + hlen))) as ShardHeader;
  } catch {
    throw new DatasetFormatError(name, 8, `a JSON header of ${hlen} bytes`, 'unparseable text');
  }
  const per = header.height * header.width * header.channels;
  const expected = 8 + hlen + 4 * header.count + per * header.count;
  if (header.version !== 1 || bytes.length !== expected) {
    throw new DatasetFormatError(name, Math.min(bytes.length, expected), `version 1 and ${expected} bytes in total`, `version ${header.version}, ${bytes.length} bytes`);
  }
  const labels = new Int32Array(header.count);
  const o = 8 + hlen;
  for (let i = 0; i < header.count; i++) labels[i] = view.getInt32(o + 4 * i, true);
  const images = bytes.slice(o + 4 * header.count);
  return { images, labels, count: header.count, height: header.height, width: header.width, channels: header.channels };
}

/** Concatenates shards (all of the same image shape) back into one set. */
export function joinShards(sets: ImageSet[]): ImageSet {
  const first = sets[0];
  if (!first) throw new Error('joinShards: no shards');
  const per = imageBytes(first);
  const count = sets.reduce((a, s) => a + s.count, 0);
  const images = new Uint8Array(count * per);
  const labels = new Int32Array(count);
  let n = 0;
  for (const s of sets) {
    if (s.height !== first.height || s.width !== first.width || s.channels !== first.channels) {
      throw new Error(`joinShards: shard shape ${s.height}x${s.width}x${s.channels} differs from ${first.height}x${first.width}x${first.channels}`);
    }
    images.set(s.images, n * per);
    labels.set(s.labels, n);
    n += s.count;
  }
  return { images, labels, count, height: first.height, width: first.width, channels: first.channels };
}
