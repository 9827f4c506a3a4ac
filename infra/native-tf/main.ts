/**
 * Native TensorFlow backend for tfjs, from registry packages only (issue 7). Optional: when any step fails the
 * engine runs on wasm.
 *
 *   npx tsx infra/native-tf/main.ts setup    build if not cached, install into node_modules, verify (default)
 *   npx tsx infra/native-tf/main.ts build    only the cache entry (~/.cache/scalenet/native-tf-…)
 *   npx tsx infra/native-tf/main.ts install  install the cached build into node_modules and verify it
 *   npx tsx infra/native-tf/main.ts verify   load it here and compare the supernet's ops with tfjs `cpu`
 *   npx tsx infra/native-tf/main.ts status   what is cached and what is installed
 *
 * Exit status 0 on success, 1 with the reason on stderr otherwise.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { entryName, nativeTfPaths } from './config';
import { ensureNativeTfBuild } from './build';
import { ensureFusedOpsOrSayWhy, installNativeTf, installedMarker } from './install';
import { ensureNativeOps } from './ops';

const projectRoot = join(__dirname, '..', '..');

async function status(): Promise<void> {
  const p = nativeTfPaths();
  console.log(`cache entry ${p.dir}: ${existsSync(p.info) ? 'built' : 'absent'}`);
  if (existsSync(p.info)) console.log(readFileSync(p.info, 'utf8').trim());
  const marker = await installedMarker(projectRoot);
  console.log(`node_modules/@tensorflow/tfjs-node: ${marker === undefined ? 'not our build (or absent)' : marker === entryName() ? `installed (${marker})` : `stale build ${marker}`}`);
}

async function run(): Promise<void> {
  const cmd = process.argv[2] ?? 'setup';
  const log = (m: string) => console.error(m);
  switch (cmd) {
    case 'setup':
      await ensureNativeTfBuild(log);
      await ensureFusedOpsOrSayWhy(log);
      console.log(await installNativeTf(projectRoot, log));
      return;
    case 'build':
      await ensureNativeTfBuild(log);
      await ensureNativeOps(log);
      return;
    case 'install':
      console.log(await installNativeTf(projectRoot, log));
      return;
    case 'verify': {
      // Required lazily: `build` and `status` must not load tfjs.
      const { verifyNative } = require('./verify') as typeof import('./verify');
      console.log(await verifyNative());
      return;
    }
    case 'status':
      await status();
      return;
    default:
      throw new Error(`unknown command '${cmd}': expected setup, build, install, verify or status`);
  }
}

run().catch((err) => {
  console.error(`${(err as Error).message}\nThe engine will fall back to the wasm backend.`);
  process.exit(1);
});
