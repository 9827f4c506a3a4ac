/** Shared fixtures of the nn tests: a micro search space and synthetic data small enough for 2 CPU cores. */
import { before, describe } from 'node:test';
import { parseSearchSpace, type SearchSpace } from '../../../core/space';
import { loadNativeBackend } from '../../../infra/native-tf/load';
import { initBackend } from '../../../nn/backend';
import { loadDataset, type Dataset } from '../../../data';

/**
 * 12 px greyscale, 3 stages (one stride-2), kernels {3, 5}, two levels. Widths 1.0–1.5 make the
 * supernet's tensors wider than most sub-networks, so slicing is exercised on every step.
 */
export function microSpace(): SearchSpace {
  return parseSearchSpace({
    name: 'micro',
    inputChannels: 1,
    classes: 4,
    resolution: 12,
    stem: { kernel: 3, stride: 1, out: 8 },
    stages: [
      { out: 8, stride: 1, expansion: 1, maxDepth: 1, kernels: [3, 5] },
      { out: 12, stride: 2, expansion: 3, maxDepth: 2, kernels: [3, 5] },
      { out: 16, stride: 2, expansion: 3, maxDepth: 2, kernels: [3, 5] },
    ],
    head: { out: 32 },
    levels: [
      { depth: [1], width: [1], resolution: [12] },
      { depth: [1, 1.5], width: [1.25, 1.5], resolution: [12, 16] },
    ],
    flops: { target: 1e6, tolerance: 1e6, scaleTolerance: 1e6 },
  });
}

/** Synthetic 12×12 data with 4 classes. */
export function microData(): Dataset {
  return loadDataset({ kind: 'synthetic', trainSize: 512, testSize: 128, resolution: 12, classes: 4, noise: 40, seed: 3 }, { minivalSize: 128, seed: 0 });
}

/**
 * The backends the engine's tests run on: wasm, the fallback every machine has, and native TensorFlow (with
 * its fused kernels) when it is installed here — `npm test` installs it when it can be built. Where it cannot,
 * the native suites are reported as skipped with the reason.
 */
export function engineBackends(): Array<{ backend: 'wasm' | 'tensorflow'; skip: string | false }> {
  const native = loadNativeBackend();
  return [
    { backend: 'wasm', skip: false },
    { backend: 'tensorflow', skip: native.ok ? false : `native TensorFlow backend not available: ${native.reason}` },
  ];
}

/** Registers `suite` once per engine backend, as `describe('on <backend>')` with that backend active. */
export function describeOnEngineBackends(suite: (backend: 'wasm' | 'tensorflow') => void): void {
  for (const { backend, skip } of engineBackends()) {
    describe(`on ${backend}`, { skip }, () => {
      before(async () => {
        await initBackend(backend, { log: () => {} });
      });
      suite(backend);
    });
  }
}
