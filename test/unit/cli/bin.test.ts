import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { it } from 'node:test';

const root = join(__dirname, '..', '..', '..');

it('`npx scalenet --help` runs the CLI from the package bin (as README command 1 does)', () => {
  const r = spawnSync('npx', ['--no-install', 'scalenet', '--help'], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^Usage: scalenet /m);
  assert.match(r.stdout, /demo \[options\]/);
});

it('bad input exits 2 with the message', () => {
  const r = spawnSync(process.execPath, [join(root, 'bin', 'scalenet.js'), 'flops', '--preset', 'nope', '--arch', join(root, 'examples', 'arch', 'paper-S0.json')], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /preset/);
});
