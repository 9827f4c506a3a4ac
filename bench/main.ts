/**
 * Engine throughput: train, BN-recalibrate and evaluate images/second of a fixed sub-network of the
 * `tiny` and `cifar` presets on each available tfjs backend, next to the same network in PyTorch
 * (bench/peer_torch.py: CPU, same threads, same batch). Never part of the test run.
 *
 *   npm run bench -- [--json] [--backends wasm,cpu] [--presets tiny,cifar] [--batch 64] [--steps 5]
 *
 * Batch: 64 for tiny and 32 for cifar by default (`--batch N` sets both): a cifar training step at
 * batch 64 needs more than the wasm backend's heap (it aborts with "memory access out of bounds").
 *
 * With --json: one JSON object per line: {name, backend, preset, phase, batchSize, threads,
 * imagesPerSecond, peerImagesPerSecond, ratio}. ratio = ours / PyTorch (null without a peer).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { Architecture } from '../core/arch';
import { getPreset } from '../core/presets';
import { scaleNetwork } from '../core/scaling';
import { BatchStream, batchToTensor, loadDataset } from '../data';
import { initBackend, type BackendKind } from '../nn/backend';
import { FoldedNetwork, predictFolded, recalibrateBn } from '../nn/evaluate';
import { StandaloneTrainer } from '../nn/trainer';
import { BENCH_SUBNETS } from './subnets';

const SUBNETS = BENCH_SUBNETS;

function option(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? dflt) : dflt;
}

interface Record_ {
  name: string;
  backend: string;
  preset: string;
  phase: 'train' | 'recalibrate' | 'evaluate';
  batchSize: number;
  threads: number;
  imagesPerSecond: number;
  peerImagesPerSecond: number | null;
  ratio: number | null;
}

type Peer = { train: number; recalibrate: number; evaluate: number; torch: string } | null;

/** Runs the PyTorch peer on the scaled network's layer list; null when torch is not installed. */
function runPeer(preset: string, batch: number, steps: number): Peer {
  const spec = scaleNetwork(getPreset(preset), SUBNETS[preset] as Architecture);
  const dir = mkdtempSync(join(tmpdir(), 'scalenet-bench-'));
  writeFileSync(join(dir, 'spec.json'), JSON.stringify(spec));
  for (const py of ['python3', '/usr/bin/python3']) {
    try {
      const out = execFileSync(py, [join(__dirname, 'peer_torch.py'), join(dir, 'spec.json'), '--batch', String(batch),
        '--threads', '1', '--train-steps', String(steps * 2), '--infer-batches', String(steps * 4)], { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
      return JSON.parse(out.trim().split('\n').pop() ?? '') as Peer;
    } catch {
      // try the next interpreter
    }
  }
  return null;
}

async function time(fn: () => Promise<void> | void): Promise<number> {
  const t = performance.now();
  await fn();
  return (performance.now() - t) / 1000;
}

async function measure(backend: string, preset: string, batch: number, steps: number): Promise<Record<'train' | 'recalibrate' | 'evaluate', number>> {
  const space = getPreset(preset);
  const arch = SUBNETS[preset] as Architecture;
  const [h, c] = preset === 'tiny' ? [28, 1] : [32, 3];
  const data = loadDataset({ kind: 'synthetic', trainSize: batch * 8, testSize: batch, height: h, width: h, channels: c, classes: space.classes }, { minivalSize: batch });
  const trainer = StandaloneTrainer.create({ space, arch, data, seed: 0, recipe: { batchSize: batch, steps: 1000 } });
  const cpuSlow = backend === 'cpu';
  const trainSteps = cpuSlow ? 1 : steps;
  trainer.trainOneStep(); // warm-up: kernels, XNNPACK operator caches
  const trainS = await time(() => {
    for (let i = 0; i < trainSteps; i++) trainer.trainOneStep();
  });
  const net = scaleNetwork(space, arch);
  const recalBatches = cpuSlow ? 1 : steps * 2;
  await recalibrateBn(trainer.store, net, data.train, data.normalization, { batches: 1, batchSize: batch });
  let stats = await recalibrateBn(trainer.store, net, data.train, data.normalization, { batches: 1, batchSize: batch });
  stats.dispose();
  const recalS = await time(async () => {
    stats = await recalibrateBn(trainer.store, net, data.train, data.normalization, { batches: recalBatches, batchSize: batch });
  });
  const x = batchToTensor(new BatchStream(data.train, { batchSize: batch, seed: 1 }).next(), data.normalization, arch.resolution);
  predictFolded(trainer.store, net, x, stats).dispose();
  const evalBatches = cpuSlow ? 1 : steps * 4;
  // As evaluateSubnetwork does: BN folded once per candidate (included in the time), then the batches.
  const evalS = await time(() => {
    const folded = FoldedNetwork.create(trainer.store, net, stats);
    for (let i = 0; i < evalBatches; i++) {
      const y = folded.predict(x);
      y.dataSync();
      y.dispose();
    }
    folded.dispose();
  });
  x.dispose();
  stats.dispose();
  trainer.dispose();
  return { train: (batch * trainSteps) / trainS, recalibrate: (batch * recalBatches) / recalS, evaluate: (batch * evalBatches) / evalS };
}

async function run(): Promise<void> {
  const json = process.argv.includes('--json');
  const batchOf = (preset: string): number => Number(option('batch', preset === 'cifar' ? '32' : '64'));
  const steps = Number(option('steps', '5'));
  const presets = option('presets', 'tiny,cifar').split(',');
  const backends = option('backends', 'tensorflow,wasm,cpu').split(',') as BackendKind[];
  const peers = new Map(presets.map((p) => [p, runPeer(p, batchOf(p), steps)]));
  const rows: Record_[] = [];
  for (const kind of backends) {
    let backend: string;
    try {
      backend = await initBackend(kind, { log: () => {} });
    } catch {
      if (!json) console.log(`backend ${kind}: not available, skipped`);
      continue;
    }
    for (const preset of presets) {
      const batch = batchOf(preset);
      const r = await measure(backend, preset, batch, steps);
      const peer = peers.get(preset) ?? null;
      for (const phase of ['train', 'recalibrate', 'evaluate'] as const) {
        const peerIps = peer ? peer[phase] : null;
        const row: Record_ = {
          name: `${preset}/${phase}`, backend, preset, phase, batchSize: batch, threads: 1,
          imagesPerSecond: Math.round(r[phase] * 10) / 10,
          peerImagesPerSecond: peerIps === null ? null : Math.round(peerIps * 10) / 10,
          ratio: peerIps === null ? null : Math.round((r[phase] / peerIps) * 1000) / 1000,
        };
        rows.push(row);
        if (json) console.log(JSON.stringify(row));
      }
    }
    tf.disposeVariables();
  }
  if (!json) {
    console.log('| preset/phase | backend | img/s | PyTorch img/s | ratio |');
    console.log('| --- | --- | ---: | ---: | ---: |');
    for (const r of rows) console.log(`| ${r.name} | ${r.backend} | ${r.imagesPerSecond} | ${r.peerImagesPerSecond ?? 'n/a'} | ${r.ratio ?? 'n/a'} |`);
    const torch = [...peers.values()].find((p) => p)?.torch;
    console.log(torch ? `PyTorch ${torch}, 1 thread, same batch per preset` : 'PyTorch peer not installed (bench/setup-torch.sh)');
  }
}

run().catch((err) => {
  console.error(err);
  process.exit(1);
});
