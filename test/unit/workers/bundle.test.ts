/**
 * The key of the cached workflow bundle (workers/bundle.ts): it must change with every file a bundle can be built
 * from (workflows/, core/, the lock file and the TypeScript config), or a worker would run stale workflow code.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { workflowSourceHash } from '../../../workers/bundle';

describe('workflow bundle key', () => {
  const root = mkdtempSync(join(tmpdir(), 'scalenet-bundle-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  const write = (rel: string, text: string): void => {
    mkdirSync(join(root, rel, '..'), { recursive: true });
    writeFileSync(join(root, rel), text);
  };
  write('workflows/index.ts', "export * from './run';\n");
  write('workflows/run.ts', 'export async function run() {}\n');
  write('core/config.ts', 'export const a = 1;\n');
  write('core/deep/x.ts', 'export const b = 2;\n');
  write('package-lock.json', '{"lockfileVersion":3}\n');
  write('tsconfig.json', '{}\n');
  write('nn/engine.ts', 'export const c = 3;\n');

  it('is stable and changes with each input a bundle depends on, not with other code', () => {
    const base = workflowSourceHash(root);
    assert.match(base, /^[0-9a-f]{64}$/);
    assert.equal(workflowSourceHash(root), base);
    write('nn/engine.ts', 'export const c = 4;\n');
    assert.equal(workflowSourceHash(root), base, 'nn/ is not part of any workflow bundle');
    const seen = new Set([base]);
    for (const [rel, text] of [
      ['workflows/run.ts', 'export async function run() { return 1; }\n'],
      ['core/deep/x.ts', 'export const b = 3;\n'],
      ['core/new.ts', 'export const d = 0;\n'],
      ['package-lock.json', '{"lockfileVersion":3,"packages":{}}\n'],
      ['tsconfig.json', '{"compilerOptions":{}}\n'],
    ] as const) {
      write(rel, text);
      const h = workflowSourceHash(root);
      assert.ok(!seen.has(h), `changing ${rel} must change the key`);
      seen.add(h);
    }
  });
});
