/**
 * `scalenet report ID --out FILE`: one self-contained HTML page for a completed run (the family table,
 * accuracy against MACs with the Pareto front, the search's fitness and strategy choices, the supernet
 * loss, the stage timeline with attempts and failures, compute per stage). See report/.
 */
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { reportCharts } from '../../report/charts';
import { gatherReportData } from '../../report/gather';
import { buildReportHtml } from '../../report/html';
import { withClients } from '../client';
import { checkOutputFile } from '../output-paths';

export interface ReportWritten {
  runId: string;
  out: string;
  bytes: number;
  /** Ids of the plots and the number of rows each one draws. */
  plots: { id: string; rows: number }[];
}

/**
 * Builds the report of `runId` and writes it to `out` (atomically: a partial file is renamed at the end). `out`
 * is checked first (writable; existing only with `force`), before anything is downloaded.
 */
export async function writeRunReport(runId: string, out: string, force = true): Promise<ReportWritten> {
  checkOutputFile(out, force);
  const data = await withClients(({ client, store }) => gatherReportData(client, store, runId));
  const html = await buildReportHtml(data);
  await mkdir(dirname(out), { recursive: true });
  const tmp = `${out}.partial`;
  try {
    await writeFile(tmp, html);
    await rename(tmp, out);
  } finally {
    await rm(tmp, { force: true });
  }
  return { runId, out, bytes: Buffer.byteLength(html), plots: reportCharts(data).map((c) => ({ id: c.id, rows: c.rows })) };
}

export function registerReportCommand(program: Command): void {
  program
    .command('report')
    .description('write a self-contained HTML report of a completed run (plots as inline SVG; opens offline)')
    .argument('<runId>', 'id of a completed run (see `scalenet list`)')
    .option('--out <file>', 'HTML file to write (default: report-<runId>.html in the current folder)')
    .option('--force', 'overwrite the file if it exists', false)
    .option('--json', 'print {runId, out, bytes, plots[]} instead of a sentence', false)
    .action(async (runId: string, o: { out?: string; force: boolean; json: boolean }) => {
      const w = await writeRunReport(runId, o.out ?? `report-${runId}.html`, o.force);
      if (o.json) console.log(JSON.stringify(w));
      else console.log(`wrote ${w.out} (${(w.bytes / 1024).toFixed(0)} kB, ${w.plots.length} plots)`);
    });
}
