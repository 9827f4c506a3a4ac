/**
 * Loading an exported layers model the way a user without this project does: stock TensorFlow.js in a
 * fresh Node process (a script that requires only @tensorflow/* packages), and in headless Chromium
 * from the packages' browser bundles, with the model served over a loopback HTTP server.
 */
import { execFile } from 'node:child_process';
import { readFile, writeFile, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { chromium } from 'playwright-core';
import type { ScaledNetwork } from '../../core/scaling';
import { buildFromNetwork } from '../../nn/layers';
import { repoRoot } from './env';

export const CHROMIUM = '/usr/bin/chromium';

/** Requires only stock packages; argv: model dir, input file (float32 NHWC), shape JSON. Prints logits JSON. */
const NODE_SCRIPT = `
const tf = require('@tensorflow/tfjs-core');
require('@tensorflow/tfjs-backend-cpu');
const tfl = require('@tensorflow/tfjs-layers');
const fs = require('node:fs');
const path = require('node:path');
(async () => {
  await tf.setBackend('cpu');
  const [dir, inputFile, shape] = process.argv.slice(1);
  const j = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
  const w = fs.readFileSync(path.join(dir, j.weightsManifest[0].paths[0]));
  const model = await tfl.loadLayersModel(tf.io.fromMemory({
    modelTopology: j.modelTopology,
    weightSpecs: j.weightsManifest.flatMap((g) => g.weights),
    weightData: w.buffer.slice(w.byteOffset, w.byteOffset + w.byteLength),
  }));
  const b = fs.readFileSync(inputFile);
  const x = tf.tensor(new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)), JSON.parse(shape));
  const y = model.predict(x);
  process.stdout.write(JSON.stringify({ backend: tf.getBackend(), logits: Array.from(await y.data()) }));
})().catch((err) => { console.error(err); process.exit(1); });
`;

/** Logits of the model in `dir` for `x`, computed by stock tfjs (cpu backend) in a separate Node process. */
export async function stockNodeLogits(dir: string, x: tf.Tensor4D): Promise<Float32Array> {
  const tmp = await mkdtemp(join(tmpdir(), 'scalenet-stock-'));
  try {
    const input = join(tmp, 'x.bin');
    await writeFile(input, await x.data() as Float32Array);
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, ['-e', NODE_SCRIPT, dir, input, JSON.stringify(x.shape)], { cwd: repoRoot, maxBuffer: 1 << 26, env: { PATH: process.env.PATH } }, (err, out, stderr) => {
        if (err) reject(new Error(`stock tfjs process failed: ${stderr || err.message}`));
        else resolve(out);
      });
    });
    const r = JSON.parse(stdout) as { backend: string; logits: number[] };
    if (r.backend !== 'cpu') throw new Error(`stock process ran on ${r.backend}`);
    return Float32Array.from(r.logits);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** Serves `routes` (path → file) on 127.0.0.1; resolves with the base URL and the server. */
async function serve(routes: Record<string, string>): Promise<{ base: string; server: Server }> {
  const server = createServer((req, res) => {
    const file = routes[(req.url ?? '').split('?')[0]!];
    if (!file) {
      res.writeHead(404).end();
      return;
    }
    readFile(file).then((body) => {
      const type = file.endsWith('.js') ? 'text/javascript' : file.endsWith('.json') ? 'application/json' : file.endsWith('.html') ? 'text/html' : 'application/octet-stream';
      res.writeHead(200, { 'content-type': type }).end(body);
    }, () => res.writeHead(500).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/** Logits of the model in `dir` for `x`, computed by stock tfjs browser bundles in headless Chromium. */
export async function chromeLogits(dir: string, x: tf.Tensor4D): Promise<Float32Array> {
  const tmp = await mkdtemp(join(tmpdir(), 'scalenet-web-'));
  const nm = join(repoRoot, 'node_modules', '@tensorflow');
  await writeFile(join(tmp, 'x.bin'), await x.data() as Float32Array);
  await writeFile(join(tmp, 'index.html'), '<!doctype html><meta charset="utf-8"><script src="/tf-core.js"></script><script src="/tf-backend-cpu.js"></script><script src="/tf-layers.js"></script>');
  const { base, server } = await serve({
    '/index.html': join(tmp, 'index.html'),
    '/tf-core.js': join(nm, 'tfjs-core', 'dist', 'tf-core.min.js'),
    '/tf-backend-cpu.js': join(nm, 'tfjs-backend-cpu', 'dist', 'tf-backend-cpu.min.js'),
    '/tf-layers.js': join(nm, 'tfjs-layers', 'dist', 'tf-layers.min.js'),
    '/model/model.json': join(dir, 'model.json'),
    '/model/weights.bin': join(dir, 'weights.bin'),
    '/x.bin': join(tmp, 'x.bin'),
  });
  const profile = await mkdtemp(join(tmpdir(), 'scalenet-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${base}/index.html`, { waitUntil: 'load' });
    // A string, not a function: this project's tsconfig has no DOM types.
    const result = await page.evaluate(`(async () => {
      await tf.setBackend('cpu');
      const model = await tf.loadLayersModel('${base}/model/model.json');
      const buf = await (await fetch('${base}/x.bin')).arrayBuffer();
      const y = model.predict(tf.tensor(new Float32Array(buf), ${JSON.stringify(x.shape)}));
      return { backend: tf.getBackend(), logits: Array.from(await y.data()) };
    })()`) as { backend: string; logits: number[] };
    if (errors.length) throw new Error(`page errors: ${errors.join('; ')}`);
    if (result.backend !== 'cpu') throw new Error(`page ran on ${result.backend}`);
    return Float32Array.from(result.logits);
  } finally {
    await context.close();
    server.close();
    await rm(profile, { recursive: true, force: true });
    await rm(tmp, { recursive: true, force: true });
  }
}

/** A model with non-trivial BN statistics and affine parameters (fresh ones would make BN the identity). */
export function randomisedModel(net: ScaledNetwork): tfl.LayersModel {
  const model = buildFromNetwork(net);
  let seed = 1;
  for (const layer of model.layers) {
    if (!layer.name.endsWith('_bn')) continue;
    const [g] = layer.getWeights();
    const c = g!.shape[0]!;
    const u = (lo: number, hi: number) => tf.randomUniform([c], lo, hi, 'float32', seed++);
    layer.setWeights([u(0.5, 1.5), u(-0.3, 0.3), u(-0.3, 0.3), u(0.5, 1.5)]);
  }
  return model;
}

