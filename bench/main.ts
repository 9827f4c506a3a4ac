/**
 * Engine throughput: train, BN-recalibrate and evaluate images/second of a fixed sub-network of the
 * `tiny` and `cifar` presets on each available tfjs backend, next to the same network in PyTorch
 * (bench/peer_torch.py: CPU, same threads, same batch). Never part of the test run.
 *
 *   npm run bench -- [--json] [--backends tensorflow,wasm,cpu] [--presets tiny,cifar] [--batch 32,64]
 *                    [--recal-batch 64] [--eval-batch 500] [--threads 1] [--repeat 1] [--steps 5]
 *                    [--machine 1x2,2x1]
 *
 * Batch: 64 for tiny and 32 for cifar by default; `--batch` takes a list (every batch for every preset), to choose
 * batch sizes by measurement. `--recal-batch` and `--eval-batch` set the recalibration and evaluation batches
 * (default: the training batch); the pipeline recalibrates at `search.bnRecalibrationBatchSize` (64) and evaluates
 * at `search.evalBatchSize` (500 in the demo and the study), so `--recal-batch 64 --eval-batch 500` measures the
 * search stage's real work. A cifar training step at batch 64 needs more than the wasm backend's heap.
 * Threads: both sides get the same count (default 1): PyTorch's set_num_threads, TensorFlow's intra/inter-op
 * pools and the fused kernels' pool. `--repeat R` runs R rounds (peer, then ours) and reports medians.
 *
 * Whole-machine mode, `--machine PxT,...`: for each layout, P processes with T threads each run at once on each
 * side (their phases started together), and the row reports the images/s of all P summed: what the machine
 * delivers when a worker pool is laid out that way. Each side's best layout is reported as a `best` row, and
 * its ratio compares the two sides' bests (each side using the machine its best way).
 *
 * With --json: one JSON object per line: {name, backend, preset, phase, batchSize, threads, processes,
 * imagesPerSecond, peerImagesPerSecond, ratio} (whole-machine `best` rows add `layout` and `peerLayout`).
 * ratio = ours / PyTorch (null without a peer).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import * as tf from '@tensorflow/tfjs-core';
import type { Architecture } from '../core/arch';
import { getPreset } from '../core/presets';
import { scaleNetwork } from '../core/scaling';
import { BatchStream, batchToTensor } from '../data';
import { initBackend, threadEnv, type BackendKind } from '../nn/backend';
import { FoldedNetwork, predictFolded, recalibrateBn } from '../nn/evaluate';
import { BENCH_SUBNETS, benchFixture, option } from './common';

const PHASES = ['train', 'recalibrate', 'evaluate'] as const;
type Phase = (typeof PHASES)[number];
type Rates = Record<Phase, number>;

interface Row {
  name: string;
  backend: string;
  preset: string;
  phase: Phase;
  batchSize: number;
  threads: number;
  processes: number;
  imagesPerSecond: number;
  peerImagesPerSecond: number | null;
  ratio: number | null;
  layout?: string;
  peerLayout?: string;
}

/** The batch of each phase: training at `train`, the others as the options say (default: the training batch). */
interface Batches {
  train: number;
  recalibrate: number;
  evaluate: number;
}

function batchesFor(train: number): Batches {
  return { train, recalibrate: Number(option('recal-batch', String(train))), evaluate: Number(option('eval-batch', String(train))) };
}

/** Called before each timed phase; in whole-machine mode it waits until every process of the side is ready. */
type Sync = () => Promise<void>;
const noSync: Sync = async () => {};

/**
 * Runs `count` copies of a command at once, each printing "ready" before every timed phase and waiting for a
 * line on stdin; all are released together. Resolves with each process's last stdout line (its JSON result).
 */
async function runTogether(count: number, start: () => ChildProcessWithoutNullStreams, phases: number): Promise<string[]> {
  const procs = Array.from({ length: count }, start);
  const last: string[] = procs.map(() => '');
  const errs: string[] = procs.map(() => '');
  let readyCount = 0;
  let round = 0;
  const done = procs.map((p, i) => new Promise<void>((resolve, reject) => {
    p.stderr.on('data', (d: Buffer) => { errs[i] += d.toString(); });
    createInterface({ input: p.stdout }).on('line', (line) => {
      if (line.trim() !== 'ready') {
        if (line.trim()) last[i] = line.trim();
        return;
      }
      readyCount++;
      if (readyCount === count * (round + 1)) {
        round++;
        for (const q of procs) q.stdin.write('go\n');
      }
    });
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`bench process exited ${code}: ${errs[i]?.slice(-2000)}`))));
  }));
  try {
    await Promise.all(done);
  } catch (err) {
    for (const p of procs) if (p.exitCode === null) p.kill();
    throw err;
  }
  if (round !== phases) throw new Error(`bench processes synchronised ${round} phases, expected ${phases}`);
  return last;
}

type Peer = (Rates & { torch: string }) | null;

function peerSpec(preset: string): string {
  const spec = scaleNetwork(getPreset(preset), BENCH_SUBNETS[preset] as Architecture);
  const dir = mkdtempSync(join(tmpdir(), 'scalenet-bench-'));
  writeFileSync(join(dir, 'spec.json'), JSON.stringify(spec));
  return join(dir, 'spec.json');
}

/**
 * Runs `processes` PyTorch peers at once on the scaled network's layer list; null when torch is not installed.
 * Rates are summed over the processes.
 */
async function runPeer(preset: string, b: Batches, steps: number, threads: number, processes = 1): Promise<Peer> {
  const spec = peerSpec(preset);
  const args = [join(__dirname, 'peer_torch.py'), spec, '--batch', String(b.train), '--recal-batch', String(b.recalibrate),
    '--eval-batch', String(b.evaluate), '--threads', String(threads), '--train-steps', String(steps * 2), '--infer-batches', String(steps * 4), '--sync'];
  for (const py of ['python3', '/usr/bin/python3']) {
    try {
      const lines = await runTogether(processes, () => spawn(py, args, { stdio: 'pipe' }), PHASES.length);
      const peers = lines.map((l) => JSON.parse(l) as NonNullable<Peer>);
      return { torch: peers[0]?.torch ?? '', ...sumRates(peers) };
    } catch {
      // try the next interpreter
    }
  }
  return null;
}

function sumRates(runs: Rates[]): Rates {
  const out: Rates = { train: 0, recalibrate: 0, evaluate: 0 };
  for (const r of runs) for (const p of PHASES) out[p] += r[p];
  return out;
}

async function time(fn: () => Promise<void> | void): Promise<number> {
  const t = performance.now();
  await fn();
  return (performance.now() - t) / 1000;
}

async function measure(backend: string, preset: string, b: Batches, steps: number, sync: Sync = noSync): Promise<Rates> {
  const { arch, net, data, trainer } = benchFixture(preset, b.train, 8 * Math.max(b.train, b.recalibrate, b.evaluate));
  const cpuSlow = backend === 'cpu';
  const trainSteps = cpuSlow ? 1 : steps;
  trainer.trainOneStep(); // warm-up: kernels, XNNPACK operator caches
  await sync();
  const trainS = await time(() => {
    for (let i = 0; i < trainSteps; i++) trainer.trainOneStep();
  });
  const recalBatches = cpuSlow ? 1 : steps * 2;
  const recal = { batches: 1, batchSize: b.recalibrate };
  (await recalibrateBn(trainer.store, net, data.train, data.normalization, recal)).dispose();
  let stats = await recalibrateBn(trainer.store, net, data.train, data.normalization, recal);
  stats.dispose();
  await sync();
  const recalS = await time(async () => {
    stats = await recalibrateBn(trainer.store, net, data.train, data.normalization, { ...recal, batches: recalBatches });
  });
  const x = batchToTensor(new BatchStream(data.train, { batchSize: b.evaluate, seed: 1 }).next(), data.normalization, arch.resolution);
  predictFolded(trainer.store, net, x, stats).dispose();
  const evalBatches = cpuSlow ? 1 : steps * 4;
  await sync();
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
  return { train: (b.train * trainSteps) / trainS, recalibrate: (b.recalibrate * recalBatches) / recalS, evaluate: (b.evaluate * evalBatches) / evalS };
}

/** Sets the thread counts of every pool; must run before tfjs-node loads (they are read once). */
function setThreads(threads: number): void {
  Object.assign(process.env, threadEnv(threads));
}

/** Whole-machine mode's child: one process of a layout, phases released by the parent. */
async function child(): Promise<void> {
  setThreads(Number(option('threads', '1')));
  const backend = await initBackend(option('backends', 'tensorflow') as BackendKind, { log: () => {} });
  const stdin = createInterface({ input: process.stdin });
  const lines = stdin[Symbol.asyncIterator]();
  const sync: Sync = async () => {
    process.stdout.write('ready\n');
    await lines.next();
  };
  const rates = await measure(backend, option('presets', 'tiny'), batchesFor(Number(option('batch', '64'))), Number(option('steps', '5')), sync);
  stdin.close();
  process.stdout.write(`${JSON.stringify(rates)}\n`);
}

/** Ours in a layout: `processes` copies of this script in child mode, `threads` threads each; rates summed. */
async function runOurs(kind: BackendKind, preset: string, b: Batches, steps: number, threads: number, processes: number): Promise<Rates> {
  const args = [...process.execArgv, __filename, '--child', '--backends', kind, '--presets', preset, '--batch', String(b.train),
    '--recal-batch', String(b.recalibrate), '--eval-batch', String(b.evaluate),
    '--threads', String(threads), '--steps', String(steps)];
  const lines = await runTogether(processes, () => spawn(process.execPath, args, { stdio: 'pipe' }), PHASES.length);
  return sumRates(lines.map((l) => JSON.parse(l) as Rates));
}

function median(xs: number[]): number {
  const v = [...xs].sort((p, q) => p - q);
  const m = Math.floor(v.length / 2);
  return v.length % 2 === 1 ? (v[m] as number) : ((v[m - 1] as number) + (v[m] as number)) / 2;
}

const round1 = (x: number): number => Math.round(x * 10) / 10;
const ratioOf = (mine: number, peer: number | null): number | null => (peer === null ? null : Math.round((mine / peer) * 1000) / 1000);

/** Per-thread mode: one process each side, `--threads` threads. */
async function perThread(json: boolean, steps: number, repeat: number, presets: string[], trainBatches: (p: string) => number[]): Promise<Row[]> {
  const threads = Number(option('threads', '1'));
  setThreads(threads);
  const backends = option('backends', 'tensorflow,wasm,cpu').split(',') as BackendKind[];
  const peerRuns = new Map<string, Peer[]>();
  const ours = new Map<string, Rates[]>();
  const names = new Map<string, string>();
  // Rounds of (peer, every backend): noise from other processes spreads over both sides; medians are reported.
  for (let round = 0; round < repeat; round++) {
    for (const preset of presets) {
      for (const batch of trainBatches(preset)) {
        const key = `${preset}@${batch}`;
        peerRuns.set(key, [...(peerRuns.get(key) ?? []), await runPeer(preset, batchesFor(batch), steps, threads)]);
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
        for (const batch of trainBatches(preset)) {
          const key = `${kind}|${preset}@${batch}`;
          names.set(key, backend);
          ours.set(key, [...(ours.get(key) ?? []), await measure(backend, preset, batchesFor(batch), steps)]);
        }
      }
      tf.disposeVariables();
    }
  }
  const rows: Row[] = [];
  for (const [key, runs] of ours) {
    const [kind, rest] = key.split('|') as [string, string];
    const [preset, batchText] = rest.split('@') as [string, string];
    const peers = (peerRuns.get(rest) ?? []).filter((p): p is NonNullable<Peer> => p !== null);
    for (const phase of PHASES) {
      const mine = median(runs.map((r) => r[phase]));
      const peerIps = peers.length > 0 ? median(peers.map((p) => p[phase])) : null;
      rows.push({
        name: `${preset}/${phase}`, backend: names.get(key) ?? kind, preset, phase, batchSize: batchesFor(Number(batchText))[phase], threads, processes: 1,
        imagesPerSecond: round1(mine), peerImagesPerSecond: peerIps === null ? null : round1(peerIps), ratio: ratioOf(mine, peerIps),
      });
    }
  }
  if (!json) {
    const torch = [...peerRuns.values()].flat().find((p) => p)?.torch;
    console.log(torch ? `PyTorch ${torch}, ${threads} thread(s) each side; median of ${repeat} round(s)` : 'PyTorch peer not installed (bench/setup-torch.sh)');
  }
  return rows;
}

/** Whole-machine mode: for each layout P×T, P processes of T threads at once on each side, rates summed. */
async function wholeMachine(layouts: Array<[number, number]>, steps: number, repeat: number, presets: string[], trainBatches: (p: string) => number[]): Promise<Row[]> {
  const kind = (option('backends', 'tensorflow').split(',')[0] ?? 'tensorflow') as BackendKind;
  const rows: Row[] = [];
  for (const preset of presets) {
    for (const batch of trainBatches(preset)) {
      const b = batchesFor(batch);
      const mine = new Map<string, Rates[]>();
      const peer = new Map<string, Rates[]>();
      for (let round = 0; round < repeat; round++) {
        for (const [p, t] of layouts) {
          const key = `${p}x${t}`;
          const pr = await runPeer(preset, b, steps, t, p);
          if (pr) peer.set(key, [...(peer.get(key) ?? []), pr]);
          mine.set(key, [...(mine.get(key) ?? []), await runOurs(kind, preset, b, steps, t, p)]);
        }
      }
      const med = (runs: Rates[] | undefined, phase: Phase): number | null => (runs && runs.length > 0 ? median(runs.map((r) => r[phase])) : null);
      for (const phase of PHASES) {
        let best: { key: string; ips: number } | undefined;
        let peerBest: { key: string; ips: number } | undefined;
        for (const [p, t] of layouts) {
          const key = `${p}x${t}`;
          const m = med(mine.get(key), phase) as number;
          const q = med(peer.get(key), phase);
          rows.push({
            name: `${preset}/${phase}`, backend: kind, preset, phase, batchSize: b[phase], threads: t, processes: p, layout: key,
            imagesPerSecond: round1(m), peerImagesPerSecond: q === null ? null : round1(q), ratio: ratioOf(m, q),
          });
          if (!best || m > best.ips) best = { key, ips: m };
          if (q !== null && (!peerBest || q > peerBest.ips)) peerBest = { key, ips: q };
        }
        if (best) {
          rows.push({
            name: `${preset}/${phase}/best`, backend: kind, preset, phase, batchSize: b[phase], threads: 0, processes: 0, layout: best.key,
            peerLayout: peerBest?.key, imagesPerSecond: round1(best.ips), peerImagesPerSecond: peerBest ? round1(peerBest.ips) : null,
            ratio: ratioOf(best.ips, peerBest?.ips ?? null),
          });
        }
      }
    }
  }
  return rows;
}

async function run(): Promise<void> {
  if (process.argv.includes('--child')) return child();
  const json = process.argv.includes('--json');
  const trainBatches = (preset: string): number[] => option('batch', preset === 'cifar' ? '32' : '64').split(',').map(Number);
  const steps = Number(option('steps', '5'));
  const repeat = Math.max(1, Number(option('repeat', '1')));
  const presets = option('presets', 'tiny,cifar').split(',');
  const machine = option('machine', '');
  const layouts = machine ? machine.split(',').map((l) => l.split('x').map(Number) as [number, number]) : [];
  if (layouts.some(([p, t]) => !(p >= 1 && t >= 1))) throw new Error(`--machine: expected layouts like 1x2,2x1 (processes x threads), got ${machine}`);
  const rows = layouts.length > 0 ? await wholeMachine(layouts, steps, repeat, presets, trainBatches) : await perThread(json, steps, repeat, presets, trainBatches);
  if (json) {
    for (const r of rows) console.log(JSON.stringify(r));
    return;
  }
  console.log('| preset/phase | backend | layout | batch | img/s | PyTorch img/s | ratio |');
  console.log('| --- | --- | --- | ---: | ---: | ---: | ---: |');
  for (const r of rows) {
    const layout = r.peerLayout ? `${r.layout} vs ${r.peerLayout}` : (r.layout ?? `1x${r.threads}`);
    console.log(`| ${r.name} | ${r.backend} | ${layout} | ${r.batchSize} | ${r.imagesPerSecond} | ${r.peerImagesPerSecond ?? 'n/a'} | ${r.ratio ?? 'n/a'} |`);
  }
  if (layouts.length > 0) console.log(`whole machine: P processes x T threads each side, img/s summed over processes; median of ${repeat} round(s)`);
}

run().catch((err) => {
  console.error(err);
  process.exit(1);
});
