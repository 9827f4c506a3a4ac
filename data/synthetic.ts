/**
 * A learnable synthetic dataset for tests and demos: each class has a smooth random prototype; an
 * image is its class prototype, shifted by up to `size/8` pixels, plus uniform noise. Deterministic in
 * the seed, so runs and tests that use it are reproducible without any download.
 */
import { Rng } from '../core/rng';
import type { ImageSet } from './types';

/** Shape and size of a synthetic dataset; see the schema in ./config.ts for defaults. */
export interface SyntheticArgs {
  trainSize: number;
  testSize: number;
  height: number;
  width: number;
  channels: number;
  classes: number;
  /** Noise amplitude in grey levels (0..255). */
  noise: number;
  seed: number;
}

function prototypes(a: SyntheticArgs, rng: Rng): Float32Array[] {
  const out: Float32Array[] = [];
  for (let c = 0; c < a.classes; c++) {
    const p = new Float32Array(a.height * a.width * a.channels);
    // A sum of three random low-frequency waves per channel: smooth, class-specific, easy to tell apart.
    for (let ch = 0; ch < a.channels; ch++) {
      for (let w = 0; w < 3; w++) {
        const fy = rng.float() * 3;
        const fx = rng.float() * 3;
        const ph = rng.float() * 2 * Math.PI;
        for (let y = 0; y < a.height; y++) {
          for (let x = 0; x < a.width; x++) {
            const i = (y * a.width + x) * a.channels + ch;
            p[i] = (p[i] as number) + Math.sin((2 * Math.PI * (fy * y)) / a.height + (2 * Math.PI * (fx * x)) / a.width + ph);
          }
        }
      }
    }
    out.push(p);
  }
  return out;
}

function generate(a: SyntheticArgs, protos: Float32Array[], count: number, rng: Rng): ImageSet {
  const per = a.height * a.width * a.channels;
  const images = new Uint8Array(count * per);
  const labels = new Int32Array(count);
  const maxShift = Math.max(0, Math.floor(Math.min(a.height, a.width) / 8));
  for (let n = 0; n < count; n++) {
    const label = rng.int(0, a.classes - 1);
    labels[n] = label;
    const p = protos[label] as Float32Array;
    const dy = rng.int(-maxShift, maxShift);
    const dx = rng.int(-maxShift, maxShift);
    for (let y = 0; y < a.height; y++) {
      const sy = Math.min(a.height - 1, Math.max(0, y + dy));
      for (let x = 0; x < a.width; x++) {
        const sx = Math.min(a.width - 1, Math.max(0, x + dx));
        for (let ch = 0; ch < a.channels; ch++) {
          const v = 128 + 40 * (p[(sy * a.width + sx) * a.channels + ch] as number) + (rng.float() - 0.5) * 2 * a.noise;
          images[n * per + (y * a.width + x) * a.channels + ch] = Math.max(0, Math.min(255, Math.round(v)));
        }
      }
    }
  }
  return { images, labels, count, height: a.height, width: a.width, channels: a.channels };
}

/** Generates the train and test sets (independent draws around the same prototypes). */
export function syntheticDataset(a: SyntheticArgs): { train: ImageSet; test: ImageSet } {
  const rng = new Rng(`synthetic:${a.seed}`);
  const protos = prototypes(a, rng);
  return { train: generate(a, protos, a.trainSize, rng), test: generate(a, protos, a.testSize, rng) };
}
