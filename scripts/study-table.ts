/**
 * The S_s vs B_s table of a finished run as Markdown (docs/results.md is made with it):
 *
 *   npx scalenet results study --json > study.json && npx tsx scripts/study-table.ts study.json
 */
import { readFileSync } from 'node:fs';
import type { RunResults } from '../activities/records';
import { pairComparisons, spreadText } from '../report/model';

const file = process.argv[2];
if (!file) {
  console.error('usage: npx tsx scripts/study-table.ts RESULTS.json   (from `scalenet results ID --json`)');
  process.exit(2);
}
const r = JSON.parse(readFileSync(file, 'utf8')) as RunResults;
const num = (x: number) => x.toLocaleString('en-US');
console.log('| level | MACs S | MACs B | B/S | S accuracy % | B accuracy % | S − B (points) |');
console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const p of pairComparisons(r)) {
  console.log(`| ${p.level} | ${num(p.searchedMacs)} | ${num(p.baselineMacs)} | ${p.macsRatio.toFixed(3)} | ${spreadText(p.searchedAccuracy, '')} | ${spreadText(p.baselineAccuracy, '')} | ${(100 * p.difference).toFixed(2)} |`);
}
