/** The comparison of runs (report/compare.ts) on fixture data: JSON shape, text, and a page with every plot drawn. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCost } from '../../../core/cost';
import { buildComparisonHtml, comparison, comparisonText } from '../../../report/compare';
import { reportFixture } from './fixture';

void test('two runs: shared-axes families, cost per stage, and the differing config paths', async () => {
  const a = reportFixture({ runId: 'run-a' });
  const b = reportFixture({ runId: 'run-b' });
  const rb = { ...b.results, runId: 'run-b', config: { ...b.results.config, name: 'other', search: { ...b.results.config.search, rounds: 9 } },
    lineage: { sourceRunId: 'run-a', sourceConfigHash: 'x', checkpoint: { bucket: 'b', key: 'k', sha256: 'a'.repeat(64), bytes: 1 }, data: { bucket: 'b', key: 'd', sha256: 'a'.repeat(64), bytes: 1 }, avoidedComputeSeconds: 12 } };
  const c = comparison([
    { runId: 'run-a', results: a.results, cost: runCost(a.results, a.history) },
    { runId: 'run-b', results: rb, cost: runCost(rb, b.history) },
  ]);
  assert.equal(c.format, 'scalenet.compare/v1');
  assert.deepEqual(c.configDiff, [{ path: 'name', values: [a.results.config.name, 'other'] }, { path: 'search.rounds', values: [a.results.config.search.rounds, 9] }]);
  assert.equal(c.runs[1]!.supernetFrom, 'run-a');
  assert.match(comparisonText(c), /search\.rounds: \d+ \| 9/);
  const html = await buildComparisonHtml(c, '2026-01-01T00:00:00Z');
  assert.doesNotMatch(html, /<script|\bsrc=|\bhref=|url\(/i);
  for (const id of ['families', 'cost']) assert.match(html, new RegExp(`data-plot="${id}" data-rows="[1-9]\\d*">\\n<h3>[^<]*</h3>\\n<svg`));
  assert.match(html, /supernet training avoided/);
});
