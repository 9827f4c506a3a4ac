/**
 * Bounding what the tool cache (infra/native-tf/config.ts `cacheRoot`) keeps of entries that a changed source
 * leaves behind: workflow bundles, native package overlays.
 */
import { readdirSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Deletes the entries of `dir` that `matches` selects, all but the `keep` newest by modification time; `current`
 * (the entry just written) always stays and counts as one of them.
 */
export async function keepNewest(dir: string, keep: number, matches: (name: string) => boolean, current: string): Promise<void> {
  const others = readdirSync(dir)
    .filter((name) => name !== current && matches(name))
    .map((name) => ({ name, mtime: statSync(join(dir, name)).mtimeMs }))
    .sort((a, b) => b.mtime - a.mtime);
  for (const { name } of others.slice(keep - 1)) await rm(join(dir, name), { recursive: true, force: true });
}
