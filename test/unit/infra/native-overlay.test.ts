/**
 * The overlay of the native backend's packages (infra/native-tf/overlay.ts): saved only from an install into a
 * tree of the lock's packages alone, applied only to such a tree, and never over a package that is already there.
 * A wrong overlay would give a backend with missing dependencies (then verification fails and the engine runs on
 * wasm), so each rule is checked with real folders.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { addedPackages, applyOverlay, isLockTree, overlayDir, saveOverlay, topLevelPackages } from '../../../infra/native-tf/overlay';

describe('native backend overlay', () => {
  const root = mkdtempSync(join(tmpdir(), 'scalenet-overlay-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  const project = join(root, 'project');
  const nm = join(project, 'node_modules');
  const pkg = (rel: string, version: string): void => {
    mkdirSync(join(nm, rel), { recursive: true });
    writeFileSync(join(nm, rel, 'package.json'), JSON.stringify({ name: rel, version }));
  };
  mkdirSync(project, { recursive: true });
  writeFileSync(join(project, 'package-lock.json'), JSON.stringify({
    packages: { '': {}, 'node_modules/a': {}, 'node_modules/@s/b': {}, 'node_modules/a/node_modules/c': {} },
  }));
  pkg('a', '1.0.0');
  pkg('@s/b', '2.0.0');

  it('lists top-level and scoped packages with their versions', () => {
    assert.deepEqual([...topLevelPackages(nm)].sort(), [['@s/b', '2.0.0'], ['a', '1.0.0']]);
  });

  it('knows a tree of the lock alone from one with leftovers (nested lock entries are not top level)', () => {
    assert.equal(isLockTree(project, topLevelPackages(nm)), true);
    assert.equal(isLockTree(project, new Map([...topLevelPackages(nm), ['c', '1.0.0']])), false);
  });

  it('takes an install as a plain addition only when nothing that was there changed', () => {
    const before = new Map([['a', '1.0.0'], ['@s/b', '2.0.0']]);
    assert.deepEqual(addedPackages(before, new Map([...before, ['z', '1.0.0'], ['@t/y', '1.0.0']])), ['@t/y', 'z']);
    assert.equal(addedPackages(before, new Map([['a', '1.0.1'], ['@s/b', '2.0.0'], ['z', '1.0.0']])), undefined);
    assert.equal(addedPackages(before, new Map([['a', '1.0.0'], ['z', '1.0.0']])), undefined);
  });

  it('saves the added packages and puts them back into a fresh tree, not over existing ones', async () => {
    pkg('@t/node', '4.0.0');
    writeFileSync(join(nm, '@t/node', 'lib.so'), 'binary');
    pkg('dep', '1.0.0');
    const dir = overlayDir(join(root, 'entry'), project);
    await saveOverlay(dir, nm, ['@t/node', 'dep']);
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'packages.json'), 'utf8')), ['@t/node', 'dep']);

    // Not over a package that is there already: nothing is touched.
    rmSync(join(nm, '@t'), { recursive: true });
    assert.equal(await applyOverlay(dir, nm), false);
    assert.equal(existsSync(join(nm, '@t/node')), false);

    rmSync(join(nm, 'dep'), { recursive: true });
    assert.equal(await applyOverlay(dir, nm), true);
    assert.equal(readFileSync(join(nm, '@t/node', 'lib.so'), 'utf8'), 'binary');
    assert.equal(JSON.parse(readFileSync(join(nm, 'dep', 'package.json'), 'utf8')).version, '1.0.0');
    // Hard links on one file system: the same inode as the overlay's file.
    assert.equal(statSync(join(nm, '@t/node', 'lib.so')).ino, statSync(join(dir, '@t/node', 'lib.so')).ino);
  });

  it('keeps the newest three overlays of an entry', async () => {
    const entry = join(root, 'entry-prune');
    for (let i = 0; i < 5; i++) {
      writeFileSync(join(project, 'package-lock.json'), JSON.stringify({ packages: { '': {}, [`node_modules/v${i}`]: {} } }));
      await saveOverlay(overlayDir(entry, project), nm, ['dep']);
    }
    const left = readdirSync(join(entry, 'overlays'));
    assert.equal(left.length, 3);
    assert.ok(left.includes(basename(overlayDir(entry, project))), 'the overlay just saved is kept');
  });

  it('has no overlay for another lock file', () => {
    const a = overlayDir(join(root, 'entry'), project);
    writeFileSync(join(project, 'package-lock.json'), JSON.stringify({ packages: { '': {}, 'node_modules/a': {} } }));
    assert.notEqual(overlayDir(join(root, 'entry'), project), a);
  });
});
