/**
 * `scalenet compare A B [C…] [--out cmp.html] [--json]`: completed runs side by side (report/compare.ts).
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { runCost } from '../../core/cost';
import { buildComparisonHtml, comparison, comparisonText, type ComparedRun } from '../../report/compare';
import { withClients } from '../client';
import { UsageError } from '../errors';
import { runHistory } from '../history';
import { loadResults } from '../results';

export function registerCompareCommand(program: Command): void {
  program
    .command('compare')
    .description('compare completed runs: families (accuracy against MACs), cost per stage, config differences')
    .argument('<runIds...>', 'two or more completed runs')
    .option('--out <file>', 'also write a self-contained HTML page (plots inline, opens offline)')
    .option('--json', 'print the comparison as JSON (format scalenet.compare/v1)', false)
    .action(async (ids: string[], o: { out?: string; json: boolean }) => {
      if (ids.length < 2) throw new UsageError('compare needs at least two run ids');
      const runs = await withClients(async ({ client, store }) => {
        const out: ComparedRun[] = [];
        for (const runId of ids) {
          const results = await loadResults(client, store, runId);
          out.push({ runId, results, cost: runCost(results, (await runHistory(client, runId)).entries) });
        }
        return out;
      });
      const c = comparison(runs);
      if (o.out) {
        const html = await buildComparisonHtml(c, new Date().toISOString());
        await mkdir(dirname(o.out), { recursive: true });
        await writeFile(`${o.out}.partial`, html);
        await rename(`${o.out}.partial`, o.out);
        if (!o.json) console.error(`wrote ${o.out} (${(Buffer.byteLength(html) / 1024).toFixed(0)} kB)`);
      }
      console.log(o.json ? JSON.stringify(c, null, 2) : comparisonText(c));
    });
}
