/**
 * Train once, search many (issue 15), on one tiny run: a second config with other fitness weights reuses its
 * super-supernet through `scalenet run --supernet-from` and trains none; mismatching configs are refused
 * (by the CLI with exit 2, and by the workflow when the CLI is bypassed); `results` carries the cost it
 * avoided; `compare` writes a page that renders offline in headless Chromium; `list` filters by name and state.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@temporalio/client';
import type { RunResults } from '../../activities/records';
import type { RunHistory } from '../../cli/history';
import type { RunConfig } from '../../core/config';
import type { RunCost } from '../../core/cost';
import type { Comparison } from '../../report/compare';
import { CheckpointStore } from '../../storage/checkpoints';
import { referencedKeys } from '../../storage/references';
import type { ArtifactStore } from '../../storage/store';
import type { RunInput } from '../../workflows/run';
import { RUN_ID } from '../../workflows/search-attributes';
import { openOffline } from '../helpers/browser';
import { eventually, repoRoot, skipWithoutServers, testClient, testStore, uniqueId } from '../helpers/env';
import { runResults, TestFleet, tinyConfig } from '../helpers/pipeline';


function scalenet(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(repoRoot, 'bin', 'scalenet.js'), ...args], { env: process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Every object under a run's prefix with its recorded sha256: what "never modified" is checked against. */
async function snapshot(store: ArtifactStore, runId: string): Promise<string[]> {
  const out = [];
  for (const o of await store.list(`runs/${runId}/`)) out.push(`${o.key} ${o.bytes} ${(await store.refOf(o.key)).sha256} ${o.lastModified.toISOString()}`);
  return out.sort();
}

describe('reusing a trained super-supernet', { skip: skipWithoutServers, timeout: 40 * 60_000 }, () => {
  let client: Client;
  let close: () => Promise<void>;
  let store: ArtifactStore;
  let work: string;
  const fleet = new TestFleet();
  const sourceId = uniqueId('tiny-src');
  const reuseId = uniqueId('tiny-reuse');
  let base: RunConfig;
  let source: RunResults;

  const writeConfig = async (file: string, config: unknown) => {
    const path = join(work, file);
    await writeFile(path, JSON.stringify(config));
    return path;
  };

  before(async () => {
    ({ client, close } = await testClient());
    store = await testStore();
    work = await mkdtemp(join(tmpdir(), 'scalenet-reuse-'));
    await fleet.add();
    // S0 alone is retrained: reuse is about the supernet and the search (pipeline.test.ts covers the fan-out).
    const tiny = tinyConfig(fleet.queue);
    base = { ...tiny, retraining: { ...tiny.retraining, levels: [0] } };
    const started = await scalenet('run', await writeConfig('tiny.json', base), '--id', sourceId, '--detach');
    assert.equal(started.code, 0, started.stderr);
    source = await runResults(client, store, sourceId);
  });
  after(async () => {
    await fleet.killAll();
    await close();
    await rm(work, { recursive: true, force: true });
  });

  it('refuses a config whose seed and supernet epochs differ, with exit 2 naming both fields, before starting anything', async () => {
    const bad = { ...base, name: 'tiny-bad', seed: base.seed + 1, supernet: { ...base.supernet, epochs: base.supernet.epochs + 1 } };
    const badId = uniqueId('tiny-bad');
    const cli = await scalenet('run', await writeConfig('bad.json', bad), '--supernet-from', sourceId, '--id', badId, '--detach');
    assert.equal(cli.code, 2, cli.stderr);
    assert.match(cli.stderr, /seed: 1 in run .*, 2 here/);
    assert.match(cli.stderr, /supernet\.epochs: 2 in run .*, 3 here/);
    await assert.rejects(client.workflow.getHandle(badId).describe(), /not found/i, 'no run was started');

    // The workflow checks again (a client that bypasses the CLI): the run fails at once, non-retryably.
    const direct = uniqueId('tiny-bad-direct');
    const input: RunInput = { runId: direct, config: { ...bad, supernet: { ...bad.supernet, from: sourceId } } };
    await client.workflow.start('scaleNetRun', { workflowId: direct, taskQueue: fleet.queue, args: [input], typedSearchAttributes: [{ key: RUN_ID, value: direct }] });
    await assert.rejects(client.workflow.getHandle(direct).result(), (err: Error & { cause?: Error }) => {
      const msg = `${err.message} ${err.cause?.message ?? ''}`;
      return /seed/.test(msg) && /supernet\.epochs/.test(msg);
    });
    assert.deepEqual(await new CheckpointStore(store, direct, 'train-supernet').steps(), []);
  });

  it('runs a second search (other fitness weights) on the same super-supernet without training one, and records the lineage', async () => {
    const before = await snapshot(store, sourceId);
    const second = { ...base, name: 'tiny-reuse', search: { ...base.search, fitnessWeights: [1, 3] } };
    const cli = await scalenet('run', await writeConfig('reuse.json', second), '--supernet-from', sourceId, '--id', reuseId, '--detach');
    assert.equal(cli.code, 0, cli.stderr);
    const reused = await runResults(client, store, reuseId);

    // No supernet training: no checkpoint under its prefix, no training activity, no prepared data of its own.
    assert.deepEqual(await new CheckpointStore(store, reuseId, 'train-supernet').steps(), []);
    assert.deepEqual((await store.list(`runs/${reuseId}/prepare-data/`)).map((o) => o.key), []);
    const hist = await scalenet('history', reuseId, '--json');
    assert.equal(hist.code, 0, hist.stderr);
    const h = JSON.parse(hist.stdout) as RunHistory;
    const activities = new Set(h.entries.map((e) => e.activity));
    assert.ok(!activities.has('trainSupernetEpoch') && !activities.has('prepareData'), `activities: ${[...activities].join(', ')}`);
    assert.ok(activities.has('evaluateCandidates') && activities.has('retrainModel'), 'the search and retraining ran');

    // Lineage: the source's final checkpoint, pinned by sha256, in history, results and manifest.
    const ck = new CheckpointStore(store, sourceId, 'train-supernet');
    const [finalStep] = await ck.steps();
    const finalRef = await store.refOf(ck.manifestKey(finalStep!));
    assert.equal(h.lineage?.sourceRunId, sourceId);
    assert.deepEqual(h.lineage?.checkpoint, finalRef);
    assert.ok(h.entries.some((e) => e.notes.some((n) => n.includes(`reused the super-supernet of run ${sourceId}`) && n.includes(finalRef.sha256))));
    assert.deepEqual(reused.lineage?.checkpoint, finalRef);
    const summary = await client.workflow.getHandle(reuseId).result();
    const manifest = await store.getJson<{ lineage?: { sourceRunId: string; checkpoint: { sha256: string } }; artifacts: { key: string }[] }>(summary.manifest);
    assert.equal(manifest.lineage?.sourceRunId, sourceId);
    assert.equal(manifest.lineage?.checkpoint.sha256, finalRef.sha256);
    assert.ok(manifest.artifacts.every((a) => a.key.startsWith(`runs/${reuseId}/`)), 'the manifest lists only its own objects as artifacts');
    assert.deepEqual(await snapshot(store, sourceId), before, 'the source run\'s objects are untouched');
    // Protected from the source's retention while referenced (recorded outside the source's prefix).
    assert.ok((await referencedKeys(store, sourceId)).has(finalRef.key), 'the reused checkpoint is recorded as referenced');
    assert.equal(await ck.remove(finalStep!), false, 'retention keeps the referenced checkpoint');

    // The same weights: the searched members of both runs read accuracies off the same super-supernet.
    assert.deepEqual(reused.supernet.epochs.map((e) => e.meanLoss), source.supernet.epochs.map((e) => e.meanLoss));

    // Cost: nothing spent on the supernet, the source's supernet seconds avoided.
    const res = await scalenet('results', reuseId, '--json');
    assert.equal(res.code, 0, res.stderr);
    const cost = (JSON.parse(res.stdout) as RunResults & { cost: RunCost }).cost;
    assert.equal(cost.format, 'scalenet.cost/v1');
    assert.equal(cost.stages.find((s) => s.stage === 'train-supernet')?.computeSeconds, 0);
    assert.equal(cost.stages.find((s) => s.stage === 'train-supernet')?.images, 0);
    assert.ok((cost.stages.find((s) => s.stage === 'search')?.images ?? 0) > 0);
    assert.deepEqual(cost.avoided, { sourceRunId: sourceId, computeSeconds: source.computeSeconds['train-supernet'] });
    assert.ok(cost.avoided.computeSeconds > 0);
    assert.deepEqual(cost.workers.map((w) => w.worker), ['test-worker-1']);
    const text = await scalenet('results', reuseId);
    assert.match(text.stdout, /of supernet training avoided/);
  });

  it('compares the two runs in a page that renders its plots in headless Chromium with no network', async (t) => {
    const file = join(work, 'cmp.html');
    const cli = await scalenet('compare', sourceId, reuseId, '--out', file, '--json');
    assert.equal(cli.code, 0, cli.stderr);
    const c = JSON.parse(cli.stdout) as Comparison;
    assert.deepEqual(c.runs.map((r) => r.runId), [sourceId, reuseId]);
    assert.deepEqual(c.configDiff.map((d) => d.path), ['name', 'search.fitnessWeights', 'supernet.from']);
    const html = await readFile(file, 'utf8');
    assert.doesNotMatch(html, /<script|\bsrc=|\bhref=|url\(/i);

    const { page, url, problems, requests } = await openOffline(t, file);
    const plots = await page.$$eval('figure.plot', (figs) => figs.map((f) => {
      const svg = f.querySelector('svg');
      const box = svg?.getBoundingClientRect();
      const groups = (svg ? Array.from(svg.querySelectorAll('g.role-mark') as ArrayLike<{ children: { length: number } }>) : []);
      return { id: f.getAttribute('data-plot'), width: box?.width ?? 0, height: box?.height ?? 0, items: groups.reduce((a, g) => a + g.children.length, 0) };
    }));
    for (const id of ['families', 'cost']) {
      const p = plots.find((x) => x.id === id);
      assert.ok(p && p.width > 100 && p.height > 50 && p.items > 0, `${id}: drawn with data (${JSON.stringify(p)})`);
    }
    const diffRows = await page.$$eval('#config-diff tbody tr', (trs) => trs.map((tr) => tr.querySelector('td')?.textContent));
    assert.deepEqual(diffRows, ['name', 'search.fitnessWeights', 'supernet.from']);
    assert.deepEqual(problems, []);
    assert.deepEqual([...new Set(requests)], [url], 'the page requests nothing but itself');
  });

  it('lists runs by config name and state', async () => {
    const listed = await eventually('both runs indexed as completed', async () => {
      const r = await scalenet('list', '--name', 'tiny', '--state', 'completed', '--limit', '1000', '--json');
      const rows = r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { runId: string; name: string; state: string });
      return rows.some((x) => x.runId === sourceId) ? rows : undefined;
    }, 60_000);
    assert.ok(listed.every((r) => r.name === 'tiny' && r.state === 'completed'), JSON.stringify(listed));
    assert.ok(!listed.some((r) => r.runId === reuseId), 'the tiny-reuse run is not listed under tiny');
    const other = await scalenet('list', '--name', 'tiny-reuse', '--config-hash', source.configHash, '--json');
    assert.equal(other.code, 0, other.stderr);
    assert.equal(other.stdout.trim(), '', 'no tiny-reuse run has the source config\'s hash');
    const bad = await scalenet('list', '--state', 'sleeping');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--state: "sleeping" is not one of/);
  });
});
