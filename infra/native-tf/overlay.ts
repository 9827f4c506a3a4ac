/**
 * The packages that `npm install --no-save` of the native build adds to a project's node_modules (tfjs-node and
 * what it depends on that the project lacks: @tensorflow/tfjs, its converter, data and webgl packages, …), kept in
 * the cache entry so that the next fresh node_modules (every `npm ci`) gets them by hard links in well under a
 * second instead of another npm run (~10 s: npm reads the whole tree and unpacks ~200 MB).
 *
 * What npm adds depends on the tree it installs into, so an overlay is keyed by the project's package-lock.json
 * and saved only from an install into a tree of that lock's packages alone that added packages and changed none;
 * it is applied only to such a tree. Anything unusual falls back to npm.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { keepNewest } from '../cache';

const execFileP = promisify(execFile);

/** Package folders directly under node_modules (`name` or `@scope/name`) with their versions. */
export function topLevelPackages(nodeModules: string): Map<string, string> {
  const out = new Map<string, string>();
  const add = (rel: string) => {
    try {
      const pkg = JSON.parse(readFileSync(join(nodeModules, rel, 'package.json'), 'utf8')) as { version?: unknown };
      out.set(rel, typeof pkg.version === 'string' ? pkg.version : '');
    } catch {
      out.set(rel, ''); // a folder without a readable package.json still occupies the name
    }
  };
  let names: string[];
  try {
    names = readdirSync(nodeModules);
  } catch {
    return out;
  }
  for (const name of names) {
    if (name.startsWith('.')) continue;
    if (name.startsWith('@')) {
      for (const sub of readdirSync(join(nodeModules, name))) if (!sub.startsWith('.')) add(`${name}/${sub}`);
    } else {
      add(name);
    }
  }
  return out;
}

/**
 * The packages an install added, or undefined when it also changed or removed one that was there before (then
 * the install's effect is not a plain addition, and an overlay could not reproduce it).
 */
export function addedPackages(before: Map<string, string>, after: Map<string, string>): string[] | undefined {
  for (const [name, version] of before) if (after.get(name) !== version) return undefined;
  return [...after.keys()].filter((name) => !before.has(name)).sort();
}

/**
 * Whether node_modules holds only packages the lock file lists at its top level (what `npm ci` leaves): an install
 * into such a tree adds what a fresh tree lacks, so its additions make a complete overlay. A tree with leftovers
 * of an earlier install (some of tfjs-node's dependencies, say) would give a partial one.
 */
export function isLockTree(projectRoot: string, installed: Map<string, string>): boolean {
  let lock: { packages?: Record<string, unknown> };
  try {
    lock = JSON.parse(readFileSync(join(projectRoot, 'package-lock.json'), 'utf8')) as typeof lock;
  } catch {
    return false;
  }
  const listed = new Set(Object.keys(lock.packages ?? {}).filter((k) => /^node_modules\/(@[^/]+\/)?[^/@][^/]*$/.test(k)).map((k) => k.slice('node_modules/'.length)));
  return [...installed.keys()].every((name) => listed.has(name));
}

/** Where the overlay for this project's lock file lives inside the cache entry `entryDir`. */
export function overlayDir(entryDir: string, projectRoot: string): string {
  const lock = readFileSync(join(projectRoot, 'package-lock.json'));
  return join(entryDir, 'overlays', createHash('sha256').update(lock).digest('hex').slice(0, 16));
}

const LIST = 'packages.json';

/** Overlays kept per cache entry (each ~200 MB; a lock file that changed leaves its old one behind). */
const KEEP_OVERLAYS = 3;

/** Copies `packages` (relative to node_modules) into a fresh overlay; the list file is written last. */
export async function saveOverlay(dir: string, nodeModules: string, packages: readonly string[]): Promise<void> {
  const tmp = `${dir}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  try {
    for (const rel of packages) {
      await mkdir(dirname(join(tmp, rel)), { recursive: true });
      await execFileP('cp', ['-a', join(nodeModules, rel), join(tmp, rel)]);
    }
    await writeFile(join(tmp, LIST), `${JSON.stringify(packages)}\n`);
    await rm(dir, { recursive: true, force: true });
    await mkdir(dirname(dir), { recursive: true });
    await rename(tmp, dir);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
  await keepNewest(dirname(dir), KEEP_OVERLAYS, (name) => !name.includes('.tmp-'), basename(dir));
}

/**
 * Puts the overlay's packages into node_modules (hard links, or copies across file systems).
 * @returns false, touching nothing, when there is no complete overlay or one of its packages is already there.
 */
export async function applyOverlay(dir: string, nodeModules: string): Promise<boolean> {
  let packages: string[];
  try {
    packages = JSON.parse(readFileSync(join(dir, LIST), 'utf8')) as string[];
  } catch {
    return false;
  }
  if (packages.length === 0 || packages.some((rel) => existsSync(join(nodeModules, rel)))) return false;
  const placed: string[] = [];
  try {
    for (const rel of packages) {
      await mkdir(dirname(join(nodeModules, rel)), { recursive: true });
      placed.push(rel);
      try {
        await execFileP('cp', ['-al', join(dir, rel), join(nodeModules, rel)]);
      } catch {
        await rm(join(nodeModules, rel), { recursive: true, force: true });
        await execFileP('cp', ['-a', join(dir, rel), join(nodeModules, rel)]);
      }
    }
    return true;
  } catch {
    for (const rel of placed) await rm(join(nodeModules, rel), { recursive: true, force: true });
    return false;
  }
}
