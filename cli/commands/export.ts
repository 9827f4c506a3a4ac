/**
 * `scalenet export ID --model S2 --out DIR`: a retrained model of a completed run as a TensorFlow.js
 * layers model (model.json + weights.bin, sha256-verified) plus metadata.json. See report/model-export.ts.
 */
import type { Command } from 'commander';
import { exportRunModel } from '../../report/model-export';
import { withClients } from '../client';
import { ensureWritableDir } from '../output-paths';

export function registerExportCommand(program: Command): void {
  program
    .command('export')
    .description('write a retrained model of a completed run as a TensorFlow.js model (model.json, weights.bin) with metadata.json')
    .argument('<runId>', 'id of a completed run (see `scalenet list`)')
    .requiredOption('--model <name>', 'family member to export: S0, S1, … (searched and extrapolated) or B1, … (compound-scaling baselines); required')
    .option('--out <dir>', 'folder to write into, created if missing (default: <runId>-<model> in the current folder)')
    .option('--force', 'overwrite model files already in the folder', false)
    .option('--json', 'print the metadata as JSON instead of a summary', false)
    .addHelpText('after', '\nLoad it with tf.loadLayersModel after importing the custom layers (nn/layers); metadata.json says how to\nnormalise and resize an image (input.preprocessing, input.normalization).')
    .action(async (runId: string, o: { model: string; out?: string; force: boolean; json: boolean }) => {
      const outDir = o.out ?? `${runId}-${o.model}`;
      ensureWritableDir(outDir);
      const r = await withClients(({ client, store }) => exportRunModel(client, store, { runId, model: o.model, outDir, force: o.force }));
      const m = r.metadata;
      if (o.json) {
        console.log(JSON.stringify(m, null, 2));
        return;
      }
      const acc = m.accuracy.test === null ? '—' : `${(m.accuracy.test * 100).toFixed(2)}%`;
      console.log(`wrote ${r.files.join(', ')} to ${r.outDir}`);
      console.log(`${m.model}: ${m.macs.toLocaleString('en-US')} MACs, ${m.params.toLocaleString('en-US')} params, test accuracy ${acc}, input ${m.input.shape.join('×')}; weights sha256 ${m.files['weights.bin'].sha256}`);
    });
}
