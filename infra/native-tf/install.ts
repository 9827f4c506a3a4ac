/**
 * Makes the cached native build resolvable by the engine: `npm install --no-save` of the built tarball into the
 * project's node_modules, so `require('@tensorflow/tfjs-node')` in nn/backend.ts finds it and, through npm's
 * deduplication, shares the project's single `@tensorflow/tfjs-core` (all @tensorflow packages are 4.22.0).
 *
 * `--no-save` keeps package.json and package-lock.json untouched: a fresh clone, `npm ci` and CI never depend on
 * the native build. The price: `npm ci` (and any later `npm install`, which prunes what package.json does not
 * list) removes it again, so setup re-runs `install` after them; it is a few seconds from the npm cache.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BUILD_MARKER_FIELD, TFJS_NODE_VERSION, entryName, nativeTfPaths } from './config';
import { ensureNativeTfBuild } from './build';
import { ensureNativeOps } from './ops';

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
 * Installs the cached build into `projectRoot`'s node_modules (skipped when the same build is already there),
 * then verifies it in a child process. On a failed verification the package is removed again, so the engine
 * falls back to wasm instead of running a backend that loads but computes wrongly.
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
  if ((await installedMarker(projectRoot)) !== entryName()) {
    log(`installing ${entryName()} into node_modules (npm install --no-save)…`);
    try {
      await execFileP('npm', ['install', '--no-save', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund', p.tarball], {
        cwd: projectRoot, maxBuffer: 16 << 20,
      });
    } catch (err) {
      const e = err as Error & { stderr?: string };
      throw new NativeTfInstallError(`npm install of ${p.tarball} failed: ${(e.stderr ?? e.message).trim().split('\n').slice(-10).join('\n')}`);
    }
  }
  try {
    return await verifyInChild(projectRoot);
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
