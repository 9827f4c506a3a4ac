/**
 * `scalenet predict DIR IMAGE… [--format tfjs|onnx] [--top K] [--json] [--benchmark]`: runs a model written
 * by `scalenet export` on image files (PNG, JPEG, …; a folder means every image in it) with the preprocessing
 * recorded in its metadata.json, and prints the top-k classes with the dataset's class names — the
 * one-minute answer to "does the exported model work?". `--benchmark` measures its batch-1 latency in ONNX
 * Runtime (the figure the retrain stage reports).
 */
import { existsSync, statSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Command } from 'commander';
import sharp from 'sharp';
import { decodeImage } from '../../data/image-decode';
import { LATENCY_THREADS, onnxLatency } from '../../nn/onnx-runtime';
import type { ModelMetadata } from '../../report/model-export';
import { loadExported, type ExportFormat, type RawImages } from '../../report/predict-exported';
import { UsageError } from '../errors';

const IMAGE = /\.(png|jpe?g|webp|gif|tiff?|bmp)$/i;

/** Image files named by the arguments (folders expanded, sorted). */
export async function imageFiles(args: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const a of args) {
    if (!existsSync(a)) throw new UsageError(`image ${a}: no such file or folder`);
    if (statSync(a).isDirectory()) out.push(...(await readdir(a)).filter((f) => IMAGE.test(f)).sort().map((f) => join(a, f)));
    else out.push(a);
  }
  if (out.length === 0) throw new UsageError(`no images in ${args.join(', ')}`);
  return out;
}

/** No decompression-bomb cap beyond sharp's own: the user chose these files. */
const PREDICT_MAX_PIXELS = 2 ** 31;

/**
 * Decodes image files to uint8 NHWC at the dataset's image shape (greyscale or RGB as the model takes);
 * models of image-folder runs: with the workers' evaluation transform (shorter side, centre crop).
 */
export async function decodeImages(files: string[], meta: ModelMetadata): Promise<RawImages> {
  const [h, w, c] = meta.input.datasetImageShape;
  const parts: Buffer[] = [];
  for (const f of files) {
    if (meta.input.decode) {
      const bytes = await readFile(f).catch(() => { throw new UsageError(`image ${f}: cannot be read`); });
      const px = await decodeImage(bytes, f, meta.input.decode.crop, c as 1 | 3, { kind: 'eval' }, PREDICT_MAX_PIXELS)
        .catch((err: Error) => { throw new UsageError(`image ${f}: not a decodable image (${err.message})`); });
      parts.push(Buffer.from(px));
      continue;
    }
    let img = sharp(await readFile(f).catch(() => { throw new UsageError(`image ${f}: cannot be read`); })).removeAlpha();
    img = c === 1 ? img.greyscale() : img.toColourspace('srgb');
    const { data, info } = await img.resize(w, h, { fit: 'fill' }).raw().toBuffer({ resolveWithObject: true })
      .catch((err: Error) => { throw new UsageError(`image ${f}: not a decodable image (${err.message})`); });
    if (info.channels !== c) throw new UsageError(`image ${f}: decoded to ${info.channels} channels, the model takes ${c}`);
    parts.push(data);
  }
  return { count: files.length, height: h, width: w, channels: c, images: Buffer.concat(parts).toString('base64') };
}

/** Softmax probabilities of one row of logits. */
function softmax(row: number[]): number[] {
  const m = Math.max(...row);
  const e = row.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

export interface Prediction {
  file: string;
  top: { class: number; label: string | null; probability: number }[];
}

export function registerPredictCommand(program: Command): void {
  program
    .command('predict')
    .description('run a model written by `scalenet export` on image files and print the top classes')
    .argument('<dir>', 'folder written by `scalenet export`')
    .argument('<images...>', 'image files (PNG, JPEG, …) or folders of them')
    .option('--format <format>', 'tfjs or onnx (default: the first present, tfjs before onnx)')
    .option('--top <k>', 'classes to print per image', '3')
    .option('--benchmark', `also measure batch-1 latency of model.onnx in ONNX Runtime (${LATENCY_THREADS} thread)`, false)
    .option('--json', 'print JSON', false)
    .action(async (dir: string, args: string[], o: { format?: string; top: string; benchmark: boolean; json: boolean }) => {
      if (o.format !== undefined && o.format !== 'tfjs' && o.format !== 'onnx') throw new UsageError(`--format: "${o.format}" is not one of tfjs, onnx`);
      const k = Number(o.top);
      if (!Number.isInteger(k) || k < 1) throw new UsageError(`--top: expected a positive integer, got "${o.top}"`);
      if (!existsSync(join(dir, 'metadata.json'))) throw new UsageError(`${dir}: no metadata.json here; pass a folder written by \`scalenet export\``);
      const files = await imageFiles(args);
      const model = await loadExported(dir, o.format as ExportFormat | undefined).catch((err: Error) => { throw new UsageError(err.message); });
      let predictions: Prediction[];
      try {
        const raw = await decodeImages(files, model.meta);
        const logits = await model.logits(raw);
        const labels = model.meta.output.labels;
        predictions = logits.map((row, i) => ({
          file: files[i]!,
          top: softmax(row).map((p, j) => ({ class: j, label: labels?.[j] ?? null, probability: p }))
            .sort((a, b) => b.probability - a.probability).slice(0, Math.min(k, row.length)),
        }));
      } finally {
        await model.dispose();
      }
      let benchmark;
      if (o.benchmark) {
        if (!existsSync(join(dir, 'model.onnx'))) throw new UsageError(`--benchmark: ${dir} holds no model.onnx; export with --format onnx or all`);
        const [r, , c] = model.meta.input.shape;
        benchmark = await onnxLatency(await readFile(join(dir, 'model.onnx')), c, r);
      }
      if (o.json) {
        console.log(JSON.stringify({ model: model.meta.model, format: model.format, predictions, ...(benchmark ? { benchmark } : {}) }, null, 2));
        return;
      }
      for (const p of predictions) {
        console.log(`${basename(p.file)}: ${p.top.map((t) => `${t.label ?? `class ${t.class}`} ${(t.probability * 100).toFixed(1)}%`).join(', ')}`);
      }
      if (benchmark) console.log(`latency (batch 1, ${benchmark.runtime}, ${benchmark.threads} thread): ${benchmark.ms.toFixed(3)} ms median`);
    });
}
