/**
 * `scalenet export ID --model S2 [--format tfjs|onnx|all] --out DIR`: a retrained model of a completed run
 * as a stock TensorFlow.js layers model (model.json, weights.bin) and/or an ONNX model (model.onnx), plus
 * metadata.json; every export is checked against the engine first. See report/model-export.ts.
 */
import type { Command } from 'commander';
import { exportRunModel } from '../../report/model-export';
import { EXPORT_FORMATS, type ExportFormat } from '../../report/predict-exported';
import { withClients } from '../client';
import { ensureWritableDir } from '../output-paths';
import { UsageError } from '../errors';

/** `--format` → the formats to write. */
export function parseFormats(value: string): ExportFormat[] {
  if (value === 'all') return [...EXPORT_FORMATS];
  if ((EXPORT_FORMATS as readonly string[]).includes(value)) return [value as ExportFormat];
  throw new UsageError(`--format: "${value}" is not one of tfjs, onnx, all`);
}

export function registerExportCommand(program: Command): void {
  program
    .command('export')
    .description('write a retrained model of a completed run as a stock TensorFlow.js model and/or ONNX model with metadata.json, checked against the engine')
    .argument('<runId>', 'id of a completed run (see `scalenet list`)')
    .requiredOption('--model <name>', 'family member to export: S0, S1, … (searched and extrapolated) or B1, … (compound-scaling baselines); required')
    .option('--format <format>', 'tfjs (model.json + weights.bin), onnx (model.onnx, opset 14, NCHW) or all', 'tfjs')
    .option('--out <dir>', 'folder to write into, created if missing (default: <runId>-<model> in the current folder)')
    .option('--force', 'overwrite model files already in the folder', false)
    .option('--json', 'print the metadata as JSON instead of a summary', false)
    .addHelpText('after', '\nThe export loads what it wrote (stock tf.loadLayersModel, ONNX Runtime) and compares its logits with the engine\'s on 32 test\nimages; beyond 1e-4 it fails and writes nothing. metadata.json says how to normalise and resize an image; `scalenet predict DIR IMAGE…` runs it.')
    .action(async (runId: string, o: { model: string; format: string; out?: string; force: boolean; json: boolean }) => {
      const formats = parseFormats(o.format);
      const outDir = o.out ?? `${runId}-${o.model}`;
      ensureWritableDir(outDir);
      const r = await withClients(({ client, store }) => exportRunModel(client, store, { runId, model: o.model, outDir, force: o.force, formats }));
      const m = r.metadata;
      if (o.json) {
        console.log(JSON.stringify(m, null, 2));
        return;
      }
      const acc = m.accuracy.test === null ? '—' : `${(m.accuracy.test * 100).toFixed(2)}%`;
      console.log(`wrote ${r.files.join(', ')} to ${r.outDir}`);
      console.log(`${m.model}: ${m.macs.toLocaleString('en-US')} MACs, ${m.params.toLocaleString('en-US')} params, test accuracy ${acc}, input ${m.input.shape.join('×')}`);
      const diffs = Object.entries(m.equivalence.maxAbsDiff).map(([f, d]) => `${f} ${d.toExponential(2)}`).join(', ');
      console.log(`checked against the engine on ${m.equivalence.images} test images: max |Δlogit| ${diffs} (tolerance ${m.equivalence.tolerance})`);
    });
}
