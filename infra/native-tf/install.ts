/**
 * Makes the cached native build resolvable by the engine: `npm install --no-save` of the built tarball into the
 * project's node_modules, so `require('@tensorflow/tfjs-node')` in nn/backend.ts finds it and, through npm's
 * deduplication, shares the project's single `@tensorflow/tfjs-core` (all @tensorflow packages are 4.22.0).
 *
 * `--no-save` keeps package.json and package-lock.json untouched: a fresh clone, `npm ci` and CI never depend on
 * the native build. The price: `npm ci` (and any later `npm install`, which prunes what package.json does not
 * list) removes it again, so setup re-runs `install` after them: the first time through npm (~10 s), later by hard
 * links from the overlay that install left in the cache entry (overlay.ts), and the verification is not repeated
 * for binaries that passed it on this CPU before.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BUILD_MARKER_FIELD, TFJS_NODE_VERSION, entryName, nativeTfPaths } from './config';
import { ensureNativeTfBuild } from './build';
import { ensureNativeOps, nativeOpsAddonPath, readCpuinfo } from './ops';
import { addedPackages, applyOverlay, isLockTree, overlayDir, saveOverlay, topLevelPackages } from './overlay';

/** The fused kernels are optional on top of the optional backend: without them it runs composite ops. */
export async function ensureFusedOpsOrSayWhy(log: (m: string) => void): Promise<void> {
  try {
    await ensureNativeOps(log);
  } catch (err) {
    log(`${(err as Error).message}\nthe native backend will run without its fused kernels (slower)`);
  }
}

const execFileP = promisify(execFile);

/** The cached build exists but cannot be installed or fails verification; the message says why. */
export class NativeTfInstallError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NativeTfInstallError';
  }
}

function tfjsNodeDir(projectRoot: string): string {
  return join(projectRoot, 'node_modules', '@tensorflow', 'tfjs-node');
}

/** The build marker of the tfjs-node in `projectRoot`'s node_modules; undefined when absent or not our build. */
export async function installedMarker(projectRoot: string): Promise<string | undefined> {
  try {
    const pkg = JSON.parse(await readFile(join(tfjsNodeDir(projectRoot), 'package.json'), 'utf8')) as Record<string, unknown>;
    const marker = pkg[BUILD_MARKER_FIELD];
    return typeof marker === 'string' ? marker : undefined;
  } catch {
    return undefined;
  }
}

/** Runs `main.ts verify` in a child process (a native crash must not take setup down); returns its report. */
async function verifyInChild(projectRoot: string): Promise<string> {
  try {
    const { stdout } = await execFileP(process.execPath, ['--import', 'tsx', join(__dirname, 'main.ts'), 'verify'], {
      cwd: projectRoot, maxBuffer: 16 << 20,
    });
    return stdout.trimEnd();
  } catch (err) {
    const e = err as Error & { stdout?: string; stderr?: string };
    throw new NativeTfInstallError(`verification failed: ${`${e.stdout ?? ''}\n${e.stderr ?? ''}`.trim().split('\n').slice(-10).join('\n') || e.message}`);
  }
}

/**
 * What a verification depends on: the build, the fused-kernel addon (its path carries its source and flags; absent
 * means none), Node's ABI and the CPU (TensorFlow and oneDNN pick kernels by CPU features).
 */
function verificationKey(): string {
  const addon = nativeOpsAddonPath();
  const cpu = (readCpuinfo().match(/^(model name|flags)\s*:.*$/gm) ?? []).slice(0, 2).join('\n');
  return createHash('sha256').update([entryName(), addon, existsSync(addon) ? 'addon' : 'no addon', process.versions.modules, process.arch, cpu].join('\n')).digest('hex').slice(0, 16);
}

/**
 * A passed verification of the same binaries on the same kind of CPU, kept in the cache entry: every `npm ci`
 * reinstalls the package, and verifying it again would repeat the same checks for ~4 s at every demo start.
 * `main.ts verify` always verifies; SCALENET_NATIVE_VERIFY=always makes `install` do so too.
 */
function verificationStamp(): string {
  return join(nativeTfPaths().dir, 'verified', `${verificationKey()}.txt`);
}

async function verifyOnce(projectRoot: string): Promise<string> {
  const stamp = verificationStamp();
  if (process.env.SCALENET_NATIVE_VERIFY !== 'always' && existsSync(stamp)) {
    return `these binaries passed every check on this CPU on ${(await readFile(stamp, 'utf8')).trim()} (not repeated; SCALENET_NATIVE_VERIFY=always repeats them)`;
  }
  const report = await verifyInChild(projectRoot);
  // The child may have deleted an addon that failed its checks: then the key changed and nothing is kept.
  if (stamp === verificationStamp()) {
    await mkdir(join(stamp, '..'), { recursive: true });
    await writeFile(stamp, `${new Date().toISOString()}\n`);
  }
  return report;
}

/**
 * `npm install --no-save` of the tarball, or the same packages from the overlay an earlier install left in the
 * cache entry (see overlay.ts); a plain install saves one for the next fresh node_modules.
 */
async function installPackage(projectRoot: string, tarball: string, log: (m: string) => void): Promise<void> {
  const nodeModules = join(projectRoot, 'node_modules');
  const overlay = overlayDir(nativeTfPaths().dir, projectRoot);
  const before = topLevelPackages(nodeModules);
  const fresh = isLockTree(projectRoot, before);
  if (fresh && (await applyOverlay(overlay, nodeModules))) {
    log(`installed ${entryName()} into node_modules from ${overlay}`);
    return;
  }
  log(`installing ${entryName()} into node_modules (npm install --no-save)…`);
  try {
    await execFileP('npm', ['install', '--no-save', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund', tarball], {
      cwd: projectRoot, maxBuffer: 16 << 20,
    });
  } catch (err) {
    const e = err as Error & { stderr?: string };
    throw new NativeTfInstallError(`npm install of ${tarball} failed: ${(e.stderr ?? e.message).trim().split('\n').slice(-10).join('\n')}`);
  }
  const added = addedPackages(before, topLevelPackages(nodeModules));
  if (fresh && added?.includes('@tensorflow/tfjs-node')) {
    await saveOverlay(overlay, nodeModules, added).catch((err: Error) => log(`(overlay not kept: ${err.message})`));
  }
}

/**
 * Installs the cached build into `projectRoot`'s node_modules (skipped when the same build is already there),
 * then verifies it in a child process (unless these binaries passed on this CPU before). On a failed
 * verification the package is removed again, so the engine falls back to wasm instead of running a backend that
 * loads but computes wrongly.
 * @returns the verification report.
 * @throws NativeTfInstallError when the build is missing, the project's tfjs-core differs, or verification fails.
 */
export async function installNativeTf(projectRoot: string, log: (m: string) => void = (m) => console.error(m)): Promise<string> {
  const p = nativeTfPaths();
  if (!existsSync(p.tarball)) throw new NativeTfInstallError(`no native build in ${p.dir}; run \`npx tsx infra/native-tf/main.ts build\` first`);
  const core = JSON.parse(await readFile(join(projectRoot, 'node_modules', '@tensorflow', 'tfjs-core', 'package.json'), 'utf8')) as { version: string };
  if (core.version !== TFJS_NODE_VERSION) {
    throw new NativeTfInstallError(`project has @tensorflow/tfjs-core ${core.version} but the native build is tfjs-node ${TFJS_NODE_VERSION}: npm would install a second tfjs-core and the backend would be invisible. Change TFJS_NODE_VERSION in infra/native-tf/config.ts`);
  }
  if ((await installedMarker(projectRoot)) !== entryName()) await installPackage(projectRoot, p.tarball, log);
  try {
    return await verifyOnce(projectRoot);
  } catch (err) {
    await rm(tfjsNodeDir(projectRoot), { recursive: true, force: true });
    throw err;
  }
}

/** Outcome of {@link ensureNativeTf}: never an exception, because the native backend is optional. */
export type NativeTfSetup = { ok: true; report: string } | { ok: false; reason: string };

/**
 * Build (if not cached) + install + verify, for setup scripts. Failure is a reason to log, not an error: the
 * engine then runs on wasm.
 */
export async function ensureNativeTf(projectRoot: string, log: (m: string) => void = (m) => console.error(m)): Promise<NativeTfSetup> {
  try {
    await ensureNativeTfBuild(log);
    await ensureFusedOpsOrSayWhy(log);
    return { ok: true, report: await installNativeTf(projectRoot, log) };
  } catch (err) {
    return { ok: false, reason: (err as Error).message };
  }
}
