/**
 * Engine throughput: train, BN-recalibrate and evaluate images/second of a fixed sub-network of the
 * `tiny` and `cifar` presets on each available tfjs backend, next to the same network in PyTorch
 * (bench/peer_torch.py: CPU, same threads, same batch). Never part of the test run.
 *
 *   npm run bench -- [--json] [--backends tensorflow,wasm,cpu] [--presets tiny,cifar] [--batch 32,64]
 *                    [--threads 1] [--repeat 1] [--steps 5]
 *
 * Batch: 64 for tiny and 32 for cifar by default; `--batch` takes a list (every batch for every preset), to choose
 * batch sizes by measurement. A cifar training step at batch 64 needs more than the wasm backend's heap.
 * Threads: both sides get the same count (default 1): PyTorch's set_num_threads, TensorFlow's intra/inter-op
 * pools and the fused kernels' pool. `--repeat R` runs R rounds (peer, then ours) and reports medians.

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
import { BatchStream, batchToTensor } from '../data';
import { initBackend, type BackendKind } from '../nn/backend';
import { FoldedNetwork, predictFolded, recalibrateBn } from '../nn/evaluate';
import { BENCH_SUBNETS, benchFixture, option } from './common';

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
function runPeer(preset: string, batch: number, steps: number, threads: number): Peer {
  const spec = scaleNetwork(getPreset(preset), BENCH_SUBNETS[preset] as Architecture);
  const dir = mkdtempSync(join(tmpdir(), 'scalenet-bench-'));
  writeFileSync(join(dir, 'spec.json'), JSON.stringify(spec));
  for (const py of ['python3', '/usr/bin/python3']) {
    try {
      const out = execFileSync(py, [join(__dirname, 'peer_torch.py'), join(dir, 'spec.json'), '--batch', String(batch),
        '--threads', String(threads), '--train-steps', String(steps * 2), '--infer-batches', String(steps * 4)], { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
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
  const { arch, net, data, trainer } = benchFixture(preset, batch);
  const cpuSlow = backend === 'cpu';
  const trainSteps = cpuSlow ? 1 : steps;
  trainer.trainOneStep(); // warm-up: kernels, XNNPACK operator caches
  const trainS = await time(() => {
    for (let i = 0; i < trainSteps; i++) trainer.trainOneStep();
  });
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

function median(xs: number[]): number {
  const v = [...xs].sort((p, q) => p - q);
  const m = Math.floor(v.length / 2);
  return v.length % 2 === 1 ? (v[m] as number) : ((v[m - 1] as number) + (v[m] as number)) / 2;
}

async function run(): Promise<void> {
  const json = process.argv.includes('--json');
  const threads = Number(option('threads', '1'));
  // Before tfjs-node loads: TensorFlow's pools and the fused kernels' pool read these once.
  process.env.TF_NUM_INTRAOP_THREADS = String(threads);
  process.env.TF_NUM_INTEROP_THREADS = String(threads);
  process.env.SCALENET_KERNEL_THREADS = String(threads);
  const batchesOf = (preset: string): number[] => option('batch', preset === 'cifar' ? '32' : '64').split(',').map(Number);
  const steps = Number(option('steps', '5'));
  const repeat = Math.max(1, Number(option('repeat', '1')));
  const presets = option('presets', 'tiny,cifar').split(',');
  const backends = option('backends', 'tensorflow,wasm,cpu').split(',') as BackendKind[];
  const peerRuns = new Map<string, Peer[]>();
  const ours = new Map<string, Array<Record<'train' | 'recalibrate' | 'evaluate', number>>>();
  const names = new Map<string, string>();
  // Rounds of (peer, every backend): noise from other processes spreads over both sides; medians are reported.
  for (let round = 0; round < repeat; round++) {
    for (const preset of presets) {
      for (const batch of batchesOf(preset)) {
        const key = `${preset}@${batch}`;
        peerRuns.set(key, [...(peerRuns.get(key) ?? []), runPeer(preset, batch, steps, threads)]);
      }
    }
    for (const kind of backends) {
      let backend: string;
      try {
        backend = await initBackend(kind, { log: () => {} });
      } catch {
        if (!json && round === 0) console.log(`backend ${kind}: not available, skipped`);
        continue;
      }
      for (const preset of presets) {
        for (const batch of batchesOf(preset)) {
          const key = `${kind}|${preset}@${batch}`;
          names.set(key, backend);
          ours.set(key, [...(ours.get(key) ?? []), await measure(backend, preset, batch, steps)]);
        }
      }
      tf.disposeVariables();
    }
  }
  const rows: Record_[] = [];
  for (const [key, runs] of ours) {
    const [kind, rest] = key.split('|') as [string, string];
    const [preset, batchText] = rest.split('@') as [string, string];
    const peers = (peerRuns.get(rest) ?? []).filter((p): p is NonNullable<Peer> => p !== null);
    for (const phase of ['train', 'recalibrate', 'evaluate'] as const) {
      const mine = median(runs.map((r) => r[phase]));
      const peerIps = peers.length > 0 ? median(peers.map((p) => p[phase])) : null;
      const row: Record_ = {
        name: `${preset}/${phase}`, backend: names.get(key) ?? kind, preset, phase, batchSize: Number(batchText), threads,
        imagesPerSecond: Math.round(mine * 10) / 10,
        peerImagesPerSecond: peerIps === null ? null : Math.round(peerIps * 10) / 10,
        ratio: peerIps === null ? null : Math.round((mine / peerIps) * 1000) / 1000,
      };
      rows.push(row);
      if (json) console.log(JSON.stringify(row));
    }
  }
  if (!json) {
    console.log('| preset/phase | backend | batch | img/s | PyTorch img/s | ratio |');
    console.log('| --- | --- | ---: | ---: | ---: | ---: |');
    for (const r of rows) console.log(`| ${r.name} | ${r.backend} | ${r.batchSize} | ${r.imagesPerSecond} | ${r.peerImagesPerSecond ?? 'n/a'} | ${r.ratio ?? 'n/a'} |`);
    const torch = [...peerRuns.values()].flat().find((p) => p)?.torch;
    console.log(torch ? `PyTorch ${torch}, ${threads} thread(s) each side, same batch; median of ${repeat} round(s)` : 'PyTorch peer not installed (bench/setup-torch.sh)');
  }
}

run().catch((err) => {
  console.error(err);
  process.exit(1);
});
