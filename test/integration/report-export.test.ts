/**
 * `scalenet report` and `scalenet export` on one completed tiny run (real Temporal, MinIO and worker
 * processes): the report opens in headless Chromium with every plot drawn from data, no console error and
 * no request beyond the file itself (a screenshot is kept in test-artifacts/report.png); an exported model,
 * loaded in a separate Node process from the folder alone, reproduces the predictions the run's own model
 * (read from MinIO, fed by the run's own preprocessing) makes on 32 test images, in TF.js and in ONNX Runtime,
 * and `scalenet predict` on 10 test images saved as PNG prints the same top-1 classes.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@temporalio/client';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import sharp from 'sharp';
import type { RunResults } from '../../activities/records';
import { datasetFromRef } from '../../activities/runtime';
import { runHistory } from '../../cli/history';
import type { DataRef } from '../../core/pipeline';
import type { ObjectRef } from '../../core/refs';
import { batchToTensor } from '../../data/tensor';
import { initBackend } from '../../nn/backend';
import '../../nn/layers';
import type { ModelMetadata } from '../../report/model-export';
import type { RawImages } from '../../report/predict-exported';
import type { ArtifactStore } from '../../storage/store';
import { openOffline } from '../helpers/browser';
import { repoRoot, skipWithoutServers, testClient, testStore, uniqueId } from '../helpers/env';
import { runResults, startTinyRun, TestFleet } from '../helpers/pipeline';

const PLOTS = ['accuracy-vs-macs', 'accuracy-vs-latency', 'fitness', 'strategies', 'supernet-loss', 'timeline', 'compute'];

interface Cli { code: number; stdout: string; stderr: string }
interface Out { backend: string; format: string; predictions: number[]; logits: number[][] }

/** Runs `scalenet ARGS` as a user would (the environment names the test servers). */
function scalenet(...args: string[]): Promise<Cli> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(repoRoot, 'bin', 'scalenet.js'), ...args], { cwd: repoRoot, env: process.env, maxBuffer: 1 << 26 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

function nodeScript(script: string, ...args: string[]): Promise<Cli> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', join(repoRoot, script), ...args], { cwd: repoRoot, maxBuffer: 1 << 26 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('report and export of a completed tiny run', { skip: skipWithoutServers }, () => {
  let client: Client;
  let close: () => Promise<void>;
  let store: ArtifactStore;
  let fleet: TestFleet;
  let runId: string;
  let results: RunResults;
  let work: string;
  let whileRunning: Cli;

  before(async () => {
    ({ client, close } = await testClient());
    store = await testStore();
    work = await mkdtemp(join(tmpdir(), 'scalenet-report-export-'));
    fleet = new TestFleet();
    // Two worker processes: evaluations and the retraining fan-out run in parallel on 2 cores.
    await Promise.all([fleet.add(), fleet.add()]);
    runId = uniqueId('tiny-report');
    await startTinyRun(client, fleet, runId);
    whileRunning = await scalenet('report', runId, '--out', join(work, 'early.html'));
    results = await runResults(client, store, runId);
  });
  after(async () => {
    await fleet?.killAll();
    await close?.();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('refuses a run that has not completed, an unknown run and an unknown model, with exit code 2', async () => {
    assert.equal(whileRunning.code, 2, whileRunning.stderr);
    assert.match(whileRunning.stderr, /is running; results exist once it completes/);
    assert.ok(!existsSync(join(work, 'early.html')));
    const missing = await scalenet('report', `${runId}-nope`, '--out', join(work, 'x.html'));
    assert.equal(missing.code, 2, missing.stderr);
    assert.match(missing.stderr, /no run with id/);
    const unknown = await scalenet('export', runId, '--model', 'S9', '--out', join(work, 'S9'));
    assert.equal(unknown.code, 2, unknown.stderr);
    assert.match(unknown.stderr, /available: S0, S1, S2, S3, B1, B2, B3/);
  });

  it('writes a report that renders every plot with data in headless Chromium, offline and without console errors', async (t) => {
    const file = join(work, 'report.html');
    const cli = await scalenet('report', runId, '--out', file, '--json');
    assert.equal(cli.code, 0, cli.stderr);
    const written = JSON.parse(cli.stdout) as { out: string; plots: { id: string; rows: number }[] };
    assert.deepEqual(written.plots.map((p) => p.id), PLOTS);
    for (const p of written.plots) assert.ok(p.rows > 0, `${p.id} has data rows`);
    const html = await readFile(file, 'utf8');
    assert.doesNotMatch(html, /<script|\bsrc=|\bhref=|url\(/i);

    const { page, url, problems, requests } = await openOffline(t, file);

    const plots = await page.$$eval('figure.plot', (figs) => figs.map((f) => {
      const svg = f.querySelector('svg');
      const box = svg?.getBoundingClientRect();
      // (no DOM lib in this project's tsconfig: the element shape is spelled out)
      const groups = (svg ? Array.from(svg.querySelectorAll('g.role-mark') as ArrayLike<{ children: { length: number } }>) : []);
      return {
        id: f.getAttribute('data-plot'),
        svg: Boolean(svg),
        width: box?.width ?? 0,
        height: box?.height ?? 0,
        markGroups: groups.length,
        emptyGroups: groups.filter((g) => g.children.length === 0).length,
        items: groups.reduce((a, g) => a + g.children.length, 0),
      };
    }));
    assert.deepEqual(plots.map((p) => p.id), PLOTS);
    for (const p of plots) {
      assert.ok(p.svg && p.width > 100 && p.height > 50, `${p.id}: an SVG of visible size (${p.width}×${p.height})`);
      // Annotation layers may be legitimately empty (e.g. retry counts in a run without retries); the data layer may not.
      assert.ok(p.markGroups > 0 && p.emptyGroups < p.markGroups && p.items > 0, `${p.id}: data marks drawn (${JSON.stringify(p)})`);
    }
    const rows = await page.$$eval('#family > table:first-of-type tbody tr', (trs) => trs.map((tr) => tr.querySelector('td')?.textContent));
    assert.deepEqual(rows, results.family.map((f) => f.model));

    await mkdir(join(repoRoot, 'test-artifacts'), { recursive: true });
    await page.screenshot({ path: join(repoRoot, 'test-artifacts', 'report.png'), fullPage: true });
    assert.deepEqual(problems, []);
    assert.deepEqual([...new Set(requests)], [url], 'the page requests nothing but itself');
  });

  it('exports S1 so that a separate Node process reproduces the run\'s predictions on 32 test images', async () => {
    const dir = join(work, 'S1');
    const cli = await scalenet('export', runId, '--model', 'S1', '--format', 'all', '--out', dir);
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, /checked against the engine on 32 test images: max \|Δlogit\| tfjs .*, onnx /);
    const meta = JSON.parse(await readFile(join(dir, 'metadata.json'), 'utf8')) as ModelMetadata;
    const row = results.family.find((f) => f.model === 'S1')!;
    assert.deepEqual([meta.model, meta.runId, meta.configHash, meta.macs, meta.params], ['S1', runId, results.configHash, row.macs, row.params]);
    assert.deepEqual(meta.architecture.stages, results.base);
    assert.equal(meta.accuracy.test, row.retrainedAccuracy);

    // The weights the retrain activity recorded in Temporal are the bytes on disk and in the metadata.
    const history = await runHistory(client, runId);
    const recorded = history.entries.filter((e) => e.activity === 'retrainModel').flatMap((e) => e.artifacts)
      // Export files are content-addressed (runs/<id>/retrain/S1/model/<content id>/weights.bin: a zombie attempt
      // cannot overwrite them), so the key is matched up to that folder.
      .find((a) => /\/retrain\/S1\/model\/(?:[^/]+\/)?weights\.bin$/.test(a.key)) as ObjectRef;
    const onDisk = await readFile(join(dir, 'weights.bin'));
    assert.equal(sha256(onDisk), recorded.sha256);
    assert.equal(meta.files['weights.bin']?.sha256, recorded.sha256);
    assert.equal((await stat(join(dir, 'model.json'))).size, meta.files['model.json']?.bytes);

    // The run's model, read from MinIO, fed by the run's own preprocessing (data/tensor.ts) on the test split,
    // on the workers' backend (native TensorFlow; the pure-JS cpu backend took minutes for these 256 images).
    await initBackend('auto', { log: () => undefined });
    const modelJson = JSON.parse((await store.getVerified(row.model_json!)).toString('utf8')) as tf.io.ModelJSON;
    const weights = await store.getVerified(recorded);
    const fromStore = await tfl.loadLayersModel(tf.io.fromMemory({
      modelTopology: modelJson.modelTopology,
      weightSpecs: modelJson.weightsManifest.flatMap((g) => g.weights),
      weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength) as ArrayBuffer,
    }));
    const dataKey = (await store.list(`runs/${runId}/prepare-data/`)).find((o) => /\/data-[0-9a-f]+\.json$/.test(o.key))!.key;
    const dataRef = await store.getJson<DataRef>(await store.refOf(dataKey));
    const dataset = await datasetFromRef(store, dataRef, results.config.dataset);
    const test = dataset.test;
    const evaluated = Math.min(results.config.retraining.testImages ?? test.count, test.count);
    const per = test.height * test.width * test.channels;
    const batch = { images: test.images.subarray(0, evaluated * per), labels: test.labels.subarray(0, evaluated), count: evaluated, height: test.height, width: test.width, channels: test.channels };
    const x = batchToTensor(batch, dataset.normalization, row.resolution);
    const y = fromStore.predict(x) as tf.Tensor2D;
    const runLogits = (await y.array()) as number[][];
    const best = tf.argMax(y, 1);
    const runPredictions = Array.from(await best.data());
    tf.dispose([x, y, best]);
    fromStore.dispose();
    const correct = runPredictions.filter((p, i) => p === test.labels[i]).length;
    // The run scored the same model (BN folded during evaluation) on these images: the same accuracy, give or take a near-tie.
    assert.ok(Math.abs(correct / evaluated - row.retrainedAccuracy!) <= 2 / evaluated, `accuracy ${correct}/${evaluated} vs the run's ${row.retrainedAccuracy}`);

    // A separate process that knows only the exported folder (both formats, one process start-up).
    // 32 images (the acceptance's number): stock tfjs on its pure-JS cpu backend took ~70 s for 100 under CI load.
    const n = 32;
    const raw: RawImages = { count: n, height: test.height, width: test.width, channels: test.channels, images: Buffer.from(test.images.subarray(0, n * per)).toString('base64') };
    const imagesFile = join(work, 'images.json');
    await writeFile(imagesFile, JSON.stringify(raw));
    const child = await nodeScript('report/predict-exported.ts', dir, imagesFile, 'tfjs,onnx');
    assert.equal(child.code, 0, child.stderr);
    const [out, onnxOut] = child.stdout.trim().split('\n').map((l) => JSON.parse(l) as Out) as [Out, Out];
    assert.equal(out.format, 'tfjs');
    assert.equal(out.backend, 'cpu');
    assert.deepEqual(out.predictions, runPredictions.slice(0, n));
    let maxDiff = 0;
    out.logits.forEach((l, i) => l.forEach((v, j) => { maxDiff = Math.max(maxDiff, Math.abs(v - runLogits[i]![j]!)); }));
    assert.ok(maxDiff < 1e-4, `logits agree (max |Δ| ${maxDiff})`);
    const childCorrect = out.predictions.filter((p, i) => p === test.labels[i]).length;
    assert.equal(childCorrect, runPredictions.slice(0, n).filter((p, i) => p === test.labels[i]).length);
    for (const d of Object.values(meta.equivalence.maxAbsDiff)) assert.ok(d <= 1e-4);

    // ONNX Runtime, from the folder alone.
    assert.equal(onnxOut.format, 'onnx');
    let onnxDiff = 0;
    onnxOut.logits.forEach((l, i) => l.forEach((v, j) => { onnxDiff = Math.max(onnxDiff, Math.abs(v - runLogits[i]![j]!)); }));
    assert.ok(onnxDiff < 1e-4, `ONNX logits agree (max |Δ| ${onnxDiff})`);

    // `scalenet predict` on 10 Fashion-MNIST test images saved as PNG files prints the run's top-1 classes.
    const pngs = join(work, 'pngs');
    await mkdir(pngs, { recursive: true });
    for (let i = 0; i < 10; i++) {
      await sharp(Buffer.from(test.images.subarray(i * per, (i + 1) * per)), { raw: { width: test.width, height: test.height, channels: test.channels as 1 } }).png().toFile(join(pngs, `test-${i}.png`));
    }
    for (const format of ['tfjs', 'onnx']) {
      const p = await scalenet('predict', dir, pngs, '--format', format, '--json');
      assert.equal(p.code, 0, p.stderr);
      const top1 = (JSON.parse(p.stdout) as { predictions: { top: { label: string }[] }[] }).predictions.map((x) => x.top[0]!.label);
      assert.deepEqual(top1, runPredictions.slice(0, 10).map((c) => meta.output.labels![c]), `${format} top-1`);
    }
  });
});
