import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { registerCoreCommands } from '../../../cli/commands/core';
import { UsageError } from '../../../cli/errors';

const S0_FILE = join(__dirname, '..', '..', '..', 'examples', 'arch', 'paper-S0.json');

/** Runs a core command and returns what it printed; rethrows what it threw. */
async function run(...args: string[]): Promise<string> {
  const program = new Command('scalenet').exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
  registerCoreCommands(program);
  const lines: string[] = [];
  const log = console.log;
  console.log = (...xs: unknown[]) => { lines.push(xs.join(' ')); };
  try {
    await program.parseAsync(args, { from: 'user' });
  } finally {
    console.log = log;
  }
  return lines.join('\n');
}

function tmpFile(name: string, content: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'scalenet-core-'));
  const file = join(dir, name);
  writeFileSync(file, content);
  return file;
}

void test('flops --json prints exactly {"macs":354933888,"params":6686680} for the S0 arch file', async () => {
  assert.equal(await run('flops', '--preset', 'paper', '--arch', S0_FILE, '--json'), '{"macs":354933888,"params":6686680}');
  assert.equal(await run('flops', '--arch', S0_FILE, '--json'), '{"macs":354933888,"params":6686680}', 'preset taken from the file');
});

void test('flops without --json prints a per-layer table whose rows sum to the totals', async () => {
  const out = (await run('flops', '--arch', S0_FILE)).split('\n');
  const num = (s: string) => Number(s.replace(/,/g, ''));
  const rows = out.slice(2).map((l) => l.trim().split(/\s{2,}/));
  const total = rows.at(-1)!;
  assert.equal(total[0], 'total');
  const body = rows.slice(0, -1);
  assert.equal(body.reduce((a, r) => a + num(r.at(-2)!), 0), 354_933_888);
  assert.equal(body.reduce((a, r) => a + num(r.at(-1)!), 0), 6_686_680);
  assert.deepEqual([num(total.at(-2)!), num(total.at(-1)!)], [354_933_888, 6_686_680]);
});

void test('bad arch files fail as usage errors (exit 2) that name the path', async () => {
  const kernel = tmpFile('k.json', JSON.stringify({ preset: 'paper', stages: [[5], [5], [7, 9, 5, 3], [5, 5], [7, 7], [7, 5, 7], [5]], depth: 1, width: 1, resolution: 224 }));
  await assert.rejects(run('flops', '--arch', kernel), (e: Error) => e instanceof UsageError && /stages\[2\]\[1\]: kernel 9 is not allowed \(allowed: 3, 5, 7\)/.test(e.message));
  const deep = tmpFile('d.json', JSON.stringify({ stages: [[5], [5, 5], [7, 7, 5, 3, 3], [5, 5], [7, 7], [7, 5, 7], [5]], depth: 1, width: 1, resolution: 224 }));
  await assert.rejects(run('flops', '--preset', 'paper', '--arch', deep), /stages\[2\]: depth 5 is out of range \(allowed: 1\.\.4\)/);
  const neg = tmpFile('n.json', JSON.stringify({ preset: 'paper', stages: [[5]], width: -1, resolution: 224 }));
  await assert.rejects(run('flops', '--arch', neg), (e: Error) => e instanceof UsageError && /width: width multiplier must be positive/.test(e.message) && /depth: required field is missing/.test(e.message));
  await assert.rejects(run('flops', '--arch', tmpFile('j.json', '{oops')), /not valid JSON/);
  await assert.rejects(run('flops', '--arch', '/nonexistent/a.json'), /cannot read/);
  await assert.rejects(run('flops', '--preset', 'tiny', '--arch', S0_FILE), /the file says "paper" but --preset says "tiny"/);
  await assert.rejects(run('space', '--preset', 'imagenet'), (e: Error) => e instanceof UsageError && /unknown preset "imagenet"/.test(e.message));
});

void test('space --json lists every level with its grid size and a MACs range that contains the target', async () => {
  const s = JSON.parse(await run('space', '--preset', 'paper', '--json')) as { levels: { level: number; gridSize: number; macsRange: { min: number; max: number }; targetMacs: number }[] };
  assert.deepEqual(s.levels.map((l) => l.gridSize), [1, 48, 75, 147]);
  for (const l of s.levels) assert.ok(l.macsRange.min < l.targetMacs && l.targetMacs < l.macsRange.max, `level ${l.level}`);
  const text = await run('space', '--preset', 'tiny');
  assert.match(text, /^tiny: 28 px, 1 channel\(s\), 10 classes/);
});

void test('schema prints the run-config JSON Schema', async () => {
  const schema = JSON.parse(await run('schema')) as { required: string[]; title: string };
  assert.deepEqual(schema.required, ['name']);
  assert.equal(schema.title, 'ScaleNet run config');
});
