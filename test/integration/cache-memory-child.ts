/**
 * Child of cache-memory.test.ts, in its own process so its RSS is its own. Two modes:
 *   datasets FILE  loads every prepared dataset listed in FILE (DataRefs, JSON) through the workers' cache
 *                  (activities/runtime.ts datasetFromRef) and prints the RSS after the first load and the peak
 *   bomb FILE      reads a gzipped IDX file through the dataset reader and prints the error it refused it with
 *                  and the peak RSS it saw while inflating
 * Peaks are Linux's VmHWM (the high-water mark, which also sees the peak inside a synchronous inflate). Run with
 * --expose-gc: each load is followed by a collection, so what grows is what the cache retains, not garbage V8 has
 * not collected yet.
 */
import { readFileSync } from 'node:fs';
import { datasetFromRef } from '../../activities/runtime';
import type { DataRef } from '../../core/pipeline';
import { readIdxImageSet } from '../../data/idx';
import { testStore } from '../helpers/env';

const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);

/** The process's peak RSS so far (Linux VmHWM: it also sees peaks inside synchronous calls), else the RSS now. */
function peakRss(): number {
  try {
    const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    if (kb) return Number(kb) * 1024;
  } catch {
    // not Linux
  }
  return process.memoryUsage().rss;
}

async function loadDatasets(file: string): Promise<void> {
  const refs = JSON.parse(readFileSync(file, 'utf8')) as DataRef[];
  const store = await testStore();
  let afterFirst = 0;
  let images = 0;
  for (const [i, ref] of refs.entries()) {
    images += (await datasetFromRef(store, ref, { kind: 'fashion-mnist' })).train.count;
    gc();
    if (i === 0) afterFirst = peakRss();
  }
  console.log(JSON.stringify({ afterFirstRssBytes: afterFirst, peakRssBytes: peakRss(), datasets: refs.length, images }));
}

function readBomb(file: string): void {
  const before = peakRss();
  let error = '';
  try {
    readIdxImageSet(file, file, 10);
  } catch (err) {
    error = `${(err as Error).name}: ${(err as Error).message}`;
  }
  console.log(JSON.stringify({ beforeRssBytes: before, peakRssBytes: peakRss(), error }));
}

async function main(): Promise<void> {
  const [mode, file] = process.argv.slice(2) as [string, string];
  if (mode === 'datasets') await loadDatasets(file);
  else if (mode === 'bomb') readBomb(file);
  else throw new Error(`unknown mode ${mode}`);
}

main().catch((err) => { console.error(err); process.exit(1); });
