/**
 * The IDX format of MNIST and Fashion-MNIST: a 4-byte magic (0, 0, type, rank), `rank` big-endian
 * uint32 dimensions, then the data. We accept type 0x08 (uint8) only — what every image/label file of
 * these datasets uses — and gzip-compressed files (detected by their magic, not their name).
 */
import { readFileSync } from 'node:fs';
import { constants, gunzipSync } from 'node:zlib';
import { DatasetFormatError, DatasetNotFoundError } from './errors';
import type { ImageSet } from './types';

/** A parsed IDX tensor of unsigned bytes. */
export interface IdxTensor {
  readonly shape: number[];
  readonly data: Uint8Array;
}

/**
 * Most bytes a gzipped dataset file may inflate to (1 GiB; Fashion-MNIST's largest file is 47 MB): a small
 * .gz can inflate to gigabytes and take a worker down with it.
 */
export const MAX_INFLATED_BYTES = 1 << 30;

/**
 * Compressed bytes inflated first when the caller can tell the file's size from its header: at most about
 * 8 MB of output even for a bomb (deflate inflates at most ~1032:1), and ample for a gzip header and an IDX
 * header (at most 1,024 bytes).
 */
const HEAD_COMPRESSED_BYTES = 1 << 13;

/**
 * Reads a file, gunzipping it when it starts with the gzip magic 1f 8b (at most `maxInflated` bytes). Given
 * `declaredBytes` (the file's whole size as its header says, from the first inflated bytes), a gzipped file is
 * inflated no further than that: a bomb behind a valid header is refused after the size it declares, and one
 * behind a damaged header (or one declaring more than `maxInflated`) after its first 8 KB.
 */
export function readMaybeGzip(file: string, maxInflated = MAX_INFLATED_BYTES, declaredBytes?: (head: Uint8Array) => number): Uint8Array {
  let raw: Buffer;
  try {
    raw = readFileSync(file);
  } catch (err) {
    throw new DatasetNotFoundError(`${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) {
    let limit = maxInflated;
    let why = '';
    // A file no longer than the head inflates to at most ~8 MB anyway: inflated whole, a truncated stream is
    // reported as such rather than as a short header.
    if (declaredBytes && raw.length > HEAD_COMPRESSED_BYTES) {
      const declared = declaredBytes(gunzip(raw.subarray(0, HEAD_COMPRESSED_BYTES), file, maxInflated, constants.Z_SYNC_FLUSH));
      if (declared > maxInflated) throw new DatasetFormatError(file, 0, `a file of at most ${maxInflated} bytes inflated`, `a header declaring ${declared}`);
      [limit, why] = [declared, ' (the size its header declares)'];
    }
    return gunzip(raw, file, limit, constants.Z_FINISH, why);
  }
  return new Uint8Array(raw.buffer, raw.byteOffset, raw.length);
}

/** Inflates at most `limit` bytes; Z_SYNC_FLUSH also inflates a prefix of a stream (for reading its header). */
function gunzip(raw: Uint8Array, file: string, limit: number, finishFlush: number, why = ''): Uint8Array {
  try {
    return new Uint8Array(gunzipSync(raw, { maxOutputLength: Math.max(1, limit), finishFlush }));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new DatasetFormatError(file, 0, `a gzip stream of at most ${limit} bytes inflated${why}`, 'a larger one');
    }
    throw new DatasetFormatError(file, 0, 'a complete gzip stream', `a damaged one (${(err as Error).message})`);
  }
}

/** The header of IDX bytes: the shape and where the data starts. */
function parseIdxHeader(bytes: Uint8Array, file: string): { shape: number[]; headerEnd: number } {
  if (bytes.length < 4) throw new DatasetFormatError(file, bytes.length, 'a 4-byte IDX magic number', `end of file after ${bytes.length} bytes`);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new DatasetFormatError(file, 0, 'IDX magic starting with two zero bytes', `0x${hex(bytes[0])} 0x${hex(bytes[1])}`);
  }
  if (bytes[2] !== 0x08) throw new DatasetFormatError(file, 2, 'IDX data type 0x08 (unsigned byte)', `0x${hex(bytes[2])}`);
  const rank = bytes[3] as number;
  if (rank < 1) throw new DatasetFormatError(file, 3, 'IDX rank >= 1', String(rank));
  const headerEnd = 4 + 4 * rank;
  if (bytes.length < headerEnd) {
    throw new DatasetFormatError(file, bytes.length, `${rank} big-endian uint32 dimensions (header of ${headerEnd} bytes)`, 'end of file');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape: number[] = [];
  for (let i = 0; i < rank; i++) shape.push(view.getUint32(4 + 4 * i, false));
  return { shape, headerEnd };
}

/** Size in bytes of the IDX file whose first bytes are `head`, as its header declares. */
export function idxDeclaredBytes(head: Uint8Array, file: string): number {
  const { shape, headerEnd } = parseIdxHeader(head, file);
  return headerEnd + shape.reduce((a, b) => a * b, 1);
}

/** Parses IDX bytes; `file` is only used in error messages. */
export function parseIdx(bytes: Uint8Array, file: string): IdxTensor {
  const { shape, headerEnd } = parseIdxHeader(bytes, file);
  const size = shape.reduce((a, b) => a * b, 1);
  if (bytes.length !== headerEnd + size) {
    const what = bytes.length < headerEnd + size ? 'end of file (truncated)' : `${bytes.length - headerEnd - size} trailing bytes`;
    throw new DatasetFormatError(file, Math.min(bytes.length, headerEnd + size), `${size} data bytes for shape [${shape.join(', ')}] (file size ${headerEnd + size})`, what);
  }
  return { shape, data: bytes.subarray(headerEnd) };
}

function hex(v: number | undefined): string {
  return (v ?? 0).toString(16).padStart(2, '0');
}

/**
 * Reads an images file (rank 3 [n, rows, cols] greyscale, or rank 4 [n, rows, cols, channels]) and a
 * labels file (rank 1 [n]) into an {@link ImageSet}, checking that counts agree and labels < classes.
 */
export function readIdxImageSet(imagesFile: string, labelsFile: string, classes: number): ImageSet {
  const read = (file: string) => parseIdx(readMaybeGzip(file, MAX_INFLATED_BYTES, (head) => idxDeclaredBytes(head, file)), file);
  const img = read(imagesFile);
  const lab = read(labelsFile);
  if (img.shape.length !== 3 && img.shape.length !== 4) {
    throw new DatasetFormatError(imagesFile, 3, 'an images file of rank 3 [n, rows, cols] or 4 [n, rows, cols, channels]', `rank ${img.shape.length}`);
  }
  if (lab.shape.length !== 1) throw new DatasetFormatError(labelsFile, 3, 'a labels file of rank 1 [n]', `rank ${lab.shape.length}`);
  const [count, height, width] = img.shape as [number, number, number];
  const channels = img.shape[3] ?? 1;
  if (lab.shape[0] !== count) {
    throw new DatasetFormatError(labelsFile, 4, `${count} labels (as many as images in ${imagesFile})`, String(lab.shape[0]));
  }
  const labels = new Int32Array(count);
  const headerEnd = 8;
  for (let i = 0; i < count; i++) {
    const v = lab.data[i] as number;
    if (v >= classes) throw new DatasetFormatError(labelsFile, headerEnd + i, `a label < ${classes}`, String(v));
    labels[i] = v;
  }
  return { images: img.data, labels, count, height, width, channels };
}

/** Encodes a uint8 tensor as IDX bytes (used by tests and by tools that write datasets). */
export function encodeIdx(shape: number[], data: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 4 * shape.length + data.length);
  const view = new DataView(out.buffer);
  out[2] = 0x08;
  out[3] = shape.length;
  shape.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * shape.length);
  return out;
}
