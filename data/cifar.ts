/**
 * The CIFAR-10 / CIFAR-100 binary format: fixed-size records, each a label byte (CIFAR-100: coarse then
 * fine label) followed by 3072 bytes of a 32×32 image stored channel-planar (1024 R, 1024 G, 1024 B).
 * We convert to NHWC like every other reader. No registry ships CIFAR (DESIGN §6): users point `dir` at
 * the extracted `cifar-10-batches-bin` / `cifar-100-binary` directory.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DatasetFormatError, DatasetNotFoundError } from './errors';
import { readMaybeGzip } from './idx';
import type { ImageSet } from './types';

const PIXELS = 32 * 32;

/** Which CIFAR variant and, for CIFAR-100, which label granularity. */
export interface CifarFormat {
  variant: 'cifar10' | 'cifar100';
  /** CIFAR-100 only: `fine` (100 classes, default) or `coarse` (20 superclasses). */
  labels?: 'fine' | 'coarse';
}

/** Number of classes of a CIFAR format. */
export function cifarClasses(f: CifarFormat): number {
  if (f.variant === 'cifar10') return 10;
  return f.labels === 'coarse' ? 20 : 100;
}

/** Parses the records of one CIFAR binary file. */
export function parseCifar(bytes: Uint8Array, file: string, f: CifarFormat): ImageSet {
  const labelBytes = f.variant === 'cifar10' ? 1 : 2;
  const record = labelBytes + 3 * PIXELS;
  if (bytes.length === 0 || bytes.length % record !== 0) {
    const offset = bytes.length - (bytes.length % record);
    throw new DatasetFormatError(file, offset, `whole ${record}-byte ${f.variant} records (${labelBytes} label byte(s) + 3072 pixels)`,
      `${bytes.length % record || bytes.length} byte(s) left over in a ${bytes.length}-byte file`);
  }
  const count = bytes.length / record;
  const images = new Uint8Array(count * 3 * PIXELS);
  const labels = new Int32Array(count);
  const classes = cifarClasses(f);
  const labelOffset = f.variant === 'cifar100' && f.labels !== 'coarse' ? 1 : 0;
  for (let i = 0; i < count; i++) {
    const base = i * record;
    const label = bytes[base + labelOffset] as number;
    if (label >= classes) throw new DatasetFormatError(file, base + labelOffset, `a label < ${classes} (record ${i})`, String(label));
    labels[i] = label;
    const src = base + labelBytes;
    const dst = i * 3 * PIXELS;
    for (let p = 0; p < PIXELS; p++) {
      images[dst + 3 * p] = bytes[src + p] as number;
      images[dst + 3 * p + 1] = bytes[src + PIXELS + p] as number;
      images[dst + 3 * p + 2] = bytes[src + 2 * PIXELS + p] as number;
    }
  }
  return { images, labels, count, height: 32, width: 32, channels: 3 };
}

function concat(sets: ImageSet[]): ImageSet {
  const count = sets.reduce((a, s) => a + s.count, 0);
  const images = new Uint8Array(count * 3 * PIXELS);
  const labels = new Int32Array(count);
  let n = 0;
  for (const s of sets) {
    images.set(s.images, n * 3 * PIXELS);
    labels.set(s.labels, n);
    n += s.count;
  }
  return { images, labels, count, height: 32, width: 32, channels: 3 };
}

/** File names of the official binary distributions (a `.gz` next to each is accepted too). */
export function cifarFiles(f: CifarFormat): { train: string[]; test: string[] } {
  return f.variant === 'cifar10'
    ? { train: [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`), test: ['test_batch.bin'] }
    : { train: ['train.bin'], test: ['test.bin'] };
}

function resolve(dir: string, name: string): string {
  for (const candidate of [join(dir, name), `${join(dir, name)}.gz`]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  throw new DatasetNotFoundError(`${join(dir, name)}: missing (expected the extracted CIFAR binary distribution in ${dir})`);
}

/** Reads the train and test sets of a CIFAR binary directory. */
export function readCifarDir(dir: string, f: CifarFormat): { train: ImageSet; test: ImageSet } {
  const names = cifarFiles(f);
  const load = (list: string[]): ImageSet => concat(list.map((n) => {
    const file = resolve(dir, n);
    return parseCifar(readMaybeGzip(file), file, f);
  }));
  return { train: load(names.train), test: load(names.test) };
}
