/**
 * CLI errors (DESIGN §5): one line, exit 2 for bad input (with the config path or the flag), exit 1 for
 * operational failures such as Temporal being down, and no stack trace unless SCALENET_DEBUG=1. None of these
 * needs servers: every check here happens before the CLI connects.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const root = join(__dirname, '..', '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'scalenet-cli-errors-'));
// A closed port: a command that got as far as connecting fails operationally (exit 1), never hangs.
const env = { ...process.env, TEMPORAL_ADDRESS: '127.0.0.1:1', SCALENET_DEBUG: '' };

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [join(root, 'bin', 'scalenet.js'), ...args], { encoding: 'utf8', env, cwd: dir, timeout: 60_000 });
  return { status: r.status, stderr: r.stderr, stdout: r.stdout };
}

function file(name: string, content: string): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

function noStack(text: string): void {
  assert.doesNotMatch(text, /^\s+at /m, `stack trace in:\n${text}`);
}

describe('scalenet errors', () => {
  it('run refuses a config that cannot run (all-zero weights) with exit 2 and the path, before connecting', () => {
    const r = cli('run', file('zero.yaml', 'name: z\nsupernet: { levelWeights: [0, 0, 0] }\n'));
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /supernet\.levelWeights: weights are all zero/);
    assert.doesNotMatch(r.stderr, /cannot reach Temporal/);
    noStack(r.stderr);
  });

  it('run refuses absurd sizes (batchSize 1e9) with exit 2 and the path', () => {
    const r = cli('run', file('big.json', JSON.stringify({ name: 'b', supernet: { batchSize: 1e9 } })));
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /supernet\.batchSize/);
  });

  for (const v of ['-5', '0', '0.0001', 'NaN']) {
    it(`run --heartbeat-timeout ${v} exits 2 naming the flag`, () => {
      const r = cli('run', join(root, 'examples', 'tiny.yaml'), '--heartbeat-timeout', v);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /--heartbeat-timeout/);
    });
  }

  it('list --limit abc exits 2 instead of dropping the limit', () => {
    const r = cli('list', '--limit', 'abc');
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /--limit/);
  });

  it('with Temporal down a command prints one line and exits 1; SCALENET_DEBUG=1 adds the stack', () => {
    const r = cli('list');
    assert.equal(r.status, 1);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /^error: cannot reach Temporal at 127\.0\.0\.1:1/);
    const d = spawnSync(process.execPath, [join(root, 'bin', 'scalenet.js'), 'list'], { encoding: 'utf8', env: { ...env, SCALENET_DEBUG: '1' }, cwd: dir, timeout: 60_000 });
    assert.equal(d.status, 1);
    assert.match(d.stderr, /^\s+at /m);
  });

  it('flops refuses absurd depth and width (exit 2) instead of a heap abort or {"macs":null}', () => {
    for (const [name, arch] of [
      ['deep.json', { preset: 'tiny', stages: [[3], [3], [3], [3]], depth: 1e7, width: 1, resolution: 28 }],
      ['wide.json', { preset: 'tiny', stages: [[3], [3], [3], [3]], depth: 1, width: 1e300, resolution: 28 }],
      ['huge.json', { preset: 'tiny', stages: [[3], [3], [3], [3]], depth: 1, width: 1, resolution: 1e6 }],
    ] as const) {
      const r = cli('flops', '--arch', file(name, JSON.stringify(arch)), '--json');
      assert.equal(r.status, 2, `${name}: ${r.stderr}${r.stdout}`);
      assert.match(r.stderr, /(depth|width) multiplier must be at most|resolution must be at most/);
      assert.equal(r.stdout, '');
    }
  });

  it('report --out is checked before any work: an existing file needs --force, a folder is refused', () => {
    const existing = file('report.html', 'old');
    const r = cli('report', 'some-run', '--out', existing);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /already exists; .*--force/);
    assert.doesNotMatch(r.stderr, /cannot reach Temporal/);
    const asDir = cli('report', 'some-run', '--out', dir);
    assert.equal(asDir.status, 2, asDir.stderr);
    assert.ok(!readdirSync(dir).some((f) => f.endsWith('.partial')));
  });

  it('export --out that is a file is refused before connecting', () => {
    const r = cli('export', 'some-run', '--model', 'S0', '--out', file('not-a-dir', 'x'));
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /is not a folder/);
  });
});
