/**
 * Image folders built by the tests themselves: Fashion-MNIST images written out as PNG and JPEG at 32 px
 * into one folder per class, plus a few colour images of mixed sizes, and folders with bad files.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { readIdxImageSet } from '../../data/idx';
import { FASHION_MNIST_DIR } from '../../data/dataset';
import type { ImageSet } from '../../data/types';

export const FASHION_CLASSES = ['ankle-boot', 'bag', 'coat', 'dress', 'pullover', 'sandal', 'shirt', 'sneaker', 'trouser', 'tshirt'];
// Fashion-MNIST label → folder (sorted names give different ids than the IDX labels, as with real folders).
const LABEL_NAMES = ['tshirt', 'trouser', 'pullover', 'dress', 'coat', 'sandal', 'shirt', 'sneaker', 'bag', 'ankle-boot'];

let cached: { train: ImageSet; test: ImageSet } | undefined;
function fashion(): { train: ImageSet; test: ImageSet } {
  const f = (n: string) => join(FASHION_MNIST_DIR, n);
  cached ??= {
    train: readIdxImageSet(f('train-images-idx3-ubyte.gz'), f('train-labels-idx1-ubyte.gz'), 10),
    test: readIdxImageSet(f('t10k-images-idx3-ubyte.gz'), f('t10k-labels-idx1-ubyte.gz'), 10),
  };
  return cached;
}

/** Options of {@link writeFashionFolder}. */
export interface FashionFolderArgs {
  split: 'train' | 'test';
  /** Images to write (the first `count` of the split). */
  count: number;
  /** Colour images of mixed sizes added per class. Default 0. */
  colourPerClass?: number;
}

/** Writes a class-per-folder copy of Fashion-MNIST at 32 px, alternating PNG and JPEG. Returns `dir`. */
export async function writeFashionFolder(dir: string, args: FashionFolderArgs): Promise<string> {
  const set = fashion()[args.split];
  for (const name of LABEL_NAMES) mkdirSync(join(dir, name), { recursive: true });
  const per = 28 * 28;
  const jobs: Promise<void>[] = [];
  for (let i = 0; i < args.count; i++) {
    const label = set.labels[i] as number;
    const px = Buffer.from(set.images.subarray(i * per, (i + 1) * per));
    const img = sharp(px, { raw: { width: 28, height: 28, channels: 1 } }).resize(32, 32);
    const ext = i % 2 === 0 ? 'png' : 'jpg';
    jobs.push((ext === 'png' ? img.png() : img.jpeg({ quality: 90 })).toBuffer().then((b) => writeFileSync(join(dir, LABEL_NAMES[label] as string, `${String(i).padStart(6, '0')}.${ext}`), b)));
    if (jobs.length >= 64) await Promise.all(jobs.splice(0));
  }
  await Promise.all(jobs);
  const sizes: [number, number][] = [[48, 40], [24, 64], [96, 80], [33, 33]];
  for (let k = 0; k < (args.colourPerClass ?? 0); k++) {
    for (const [c, name] of LABEL_NAMES.entries()) {
      const [w, h] = sizes[(k + c) % sizes.length] as [number, number];
      const rgb = Buffer.alloc(w * h * 3);
      for (let p = 0; p < w * h; p++) {
        rgb[3 * p] = (c * 25 + p) % 256;
        rgb[3 * p + 1] = (k * 60 + (p % w) * 3) % 256;
        rgb[3 * p + 2] = (Math.floor(p / w) * 5) % 256;
      }
      const img = sharp(rgb, { raw: { width: w, height: h, channels: 3 } });
      const buf = k % 2 === 0 ? await img.jpeg().toBuffer() : await img.png().toBuffer();
      writeFileSync(join(dir, name, `colour-${k}.${k % 2 === 0 ? 'jpg' : 'png'}`), buf);
    }
  }
  return dir;
}

/** A small valid PNG (for folders of bad-data tests). */
export function tinyPng(value = 128, size = 8): Promise<Buffer> {
  return sharp(Buffer.alloc(size * size, value), { raw: { width: size, height: size, channels: 1 } }).png().toBuffer();
}
