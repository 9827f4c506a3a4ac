/**
 * The local Temporal dev server and MinIO behind `scalenet up` / `scalenet down`, and behind the test
 * suite (which starts its own pair on free ports in a temporary state directory).
 *
 * State directory layout (default `$SCALENET_HOME`, else `~/.local/state/scalenet`):
 *   temporal/temporal.db   SQLite history (survives `down`/`up`)
 *   minio/data/            buckets (survive `down`/`up`)
 *   credentials.json       MinIO root credentials, mode 0600, generated on first start
 *   endpoints.json         addresses of the running servers, read by the CLI as local defaults
 *   run/*.pid, logs/*.log  pidfiles and server output
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { ensureTools } from './tools';
import { isRunning, readPidfile, startDetached, stopByPidfile, waitFor } from './processes';

/** Search attributes the project registers (DESIGN §4: typed attributes for audit). */
export const SEARCH_ATTRIBUTES = {
  ScaleNetRunId: 'Keyword',
  ScaleNetStage: 'Keyword',
  ScaleNetConfigHash: 'Keyword',
  ScaleNetConfigName: 'Keyword',
} as const;

export interface UpOptions {
  /** State directory. Default: {@link defaultStateDir}. */
  stateDir?: string;
  /** Temporal front-end gRPC port. Default 7233. */
  temporalPort?: number;
  /** MinIO S3 port. Default 9000. */
  minioPort?: number;
  /** Serve Temporal's web UI. Default false. */
  ui?: boolean;
  /** Web UI port when `ui` is on. Default temporalPort + 1000. */
  uiPort?: number;
  /** Health-check deadline per server in ms. Default 60 000. */
  timeoutMs?: number;
  log?: (msg: string) => void;
}

export interface Credentials {
  accessKey: string;
  secretKey: string;
}

export interface LocalEndpoints {
  stateDir: string;
  temporalAddress: string;
  s3Endpoint: string;
  credentials: Credentials;
  uiAddress?: string;
}

export function defaultStateDir(): string {
  return process.env.SCALENET_HOME ?? join(process.env.XDG_STATE_HOME ?? join(homedir(), '.local', 'state'), 'scalenet');
}

const paths = (stateDir: string) => ({
  temporalDb: join(stateDir, 'temporal', 'temporal.db'),
  minioData: join(stateDir, 'minio', 'data'),
  credentials: join(stateDir, 'credentials.json'),
  endpoints: join(stateDir, 'endpoints.json'),
  temporalPid: join(stateDir, 'run', 'temporal.pid'),
  minioPid: join(stateDir, 'run', 'minio.pid'),
  temporalLog: join(stateDir, 'logs', 'temporal.log'),
  minioLog: join(stateDir, 'logs', 'minio.log'),
});

/** A free TCP port on loopback (the OS picks it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * MinIO credentials: from SCALENET_S3_ACCESS_KEY / SCALENET_S3_SECRET_KEY when both are set, else the
 * state directory's credentials.json, generated (mode 0600) on first use.
 */
export async function localCredentials(stateDir: string): Promise<Credentials> {
  const { SCALENET_S3_ACCESS_KEY: a, SCALENET_S3_SECRET_KEY: s } = process.env;
  if (a && s) return { accessKey: a, secretKey: s };
  const file = paths(stateDir).credentials;
  if (existsSync(file)) return JSON.parse(await readFile(file, 'utf8')) as Credentials;
  const creds = { accessKey: `scalenet-${randomBytes(6).toString('hex')}`, secretKey: randomBytes(24).toString('base64url') };
  await mkdir(stateDir, { recursive: true });
  await writeFile(file, JSON.stringify(creds, null, 2), { mode: 0o600 });
  await chmod(file, 0o600);
  return creds;
}

/** Reads endpoints.json of a state directory, if `up` wrote one. */
export async function readEndpoints(stateDir = defaultStateDir()): Promise<LocalEndpoints | undefined> {
  const file = paths(stateDir).endpoints;
  if (!existsSync(file)) return undefined;
  return JSON.parse(await readFile(file, 'utf8')) as LocalEndpoints;
}

async function temporalHealthy(address: string): Promise<true | undefined> {
  const conn = await Connection.connect({ address, connectTimeout: 2_000 });
  try {
    await conn.workflowService.describeNamespace({ namespace: 'default' });
    // A server started by an older `up` lacks attributes added since (e.g. ScaleNetConfigName): add them.
    const have = await conn.operatorService.listSearchAttributes({ namespace: 'default' });
    const missing = Object.keys(SEARCH_ATTRIBUTES).filter((k) => !(k in (have.customAttributes ?? {})));
    if (missing.length > 0) {
      await conn.operatorService.addSearchAttributes({
        namespace: 'default',
        // 2 = INDEXED_VALUE_TYPE_KEYWORD (every attribute of the project is a Keyword).
        searchAttributes: Object.fromEntries(missing.map((k) => [k, 2 as temporal.api.enums.v1.IndexedValueType])),
      });
    }
    return true;
  } finally {
    await conn.close();
  }
}

async function minioHealthy(endpoint: string): Promise<true | undefined> {
  const res = await fetch(`${endpoint}/minio/health/ready`);
  return res.ok ? true : undefined;
}

/** Starts (or finds running) the Temporal dev server of a state directory and waits until it serves. */
export async function startTemporal(opts: { stateDir: string; port: number; ui?: boolean; uiPort?: number; timeoutMs?: number }): Promise<string> {
  const p = paths(opts.stateDir);
  const address = `127.0.0.1:${opts.port}`;
  const existing = await readPidfile(p.temporalPid);
  if (!(existing && isRunning(existing))) {
    const { temporal } = await ensureTools();
    await mkdir(join(opts.stateDir, 'temporal'), { recursive: true });
    const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(opts.port), '--db-filename', p.temporalDb, '--log-level', 'warn'];
    args.push(...(opts.ui ? ['--ui-ip', '127.0.0.1', '--ui-port', String(opts.uiPort ?? opts.port + 1000)] : ['--headless']));
    for (const [name, type] of Object.entries(SEARCH_ATTRIBUTES)) args.push('--search-attribute', `${name}=${type}`);
    await startDetached({ binary: temporal, args, logFile: p.temporalLog, pidfile: p.temporalPid });
  }
  await waitFor(`Temporal at ${address} (log: ${p.temporalLog})`, opts.timeoutMs ?? 60_000, async () => {
    const rec = await readPidfile(p.temporalPid);
    if (!rec || !isRunning(rec)) throw new Error(`the Temporal server exited; see ${p.temporalLog}`);
    return temporalHealthy(address);
  });
  return address;
}

/** Starts (or finds running) MinIO of a state directory and waits until it is ready. */
export async function startMinio(opts: { stateDir: string; port: number; timeoutMs?: number }): Promise<{ endpoint: string; credentials: Credentials }> {
  const p = paths(opts.stateDir);
  const endpoint = `http://127.0.0.1:${opts.port}`;
  const credentials = await localCredentials(opts.stateDir);
  const existing = await readPidfile(p.minioPid);
  if (!(existing && isRunning(existing))) {
    const { minio } = await ensureTools();
    await mkdir(p.minioData, { recursive: true });
    const consolePort = await freePort();
    await startDetached({
      binary: minio,
      args: ['server', p.minioData, '--address', `127.0.0.1:${opts.port}`, '--console-address', `127.0.0.1:${consolePort}`, '--quiet'],
      env: {
        ...process.env,
        MINIO_ROOT_USER: credentials.accessKey,
        MINIO_ROOT_PASSWORD: credentials.secretKey,
        MINIO_BROWSER: 'off', // console off: nothing but the S3 API listens
        MINIO_UPDATE: 'off',
      },
      logFile: p.minioLog,
      pidfile: p.minioPid,
    });
  }
  await waitFor(`MinIO at ${endpoint} (log: ${p.minioLog})`, opts.timeoutMs ?? 60_000, async () => {
    const rec = await readPidfile(p.minioPid);
    if (!rec || !isRunning(rec)) throw new Error(`MinIO exited; see ${p.minioLog}`);
    return minioHealthy(endpoint);
  });
  return { endpoint, credentials };
}

export const stopTemporal = (stateDir: string) => stopByPidfile(paths(stateDir).temporalPid);
export const stopMinio = (stateDir: string) => stopByPidfile(paths(stateDir).minioPid);

/**
 * Brings both servers up (idempotent: a running server of this state directory is reused, never doubled)
 * and records their addresses in endpoints.json.
 */
export async function up(opts: UpOptions = {}): Promise<LocalEndpoints> {
  const stateDir = opts.stateDir ?? defaultStateDir();
  const log = opts.log ?? (() => undefined);
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  await ensureTools(log);
  const previous = await readEndpoints(stateDir);
  // Reuse the ports of a previous `up` unless told otherwise, so restarted servers keep their addresses.
  const portOf = (addr: string | undefined) => (addr ? Number(addr.split(':').pop()) : undefined);
  const temporalPort = opts.temporalPort ?? portOf(previous?.temporalAddress) ?? 7233;
  const minioPort = opts.minioPort ?? portOf(previous?.s3Endpoint) ?? 9000;
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const [temporalAddress, minio] = await Promise.all([
    startTemporal({ stateDir, port: temporalPort, ui: opts.ui, uiPort: opts.uiPort, timeoutMs }),
    startMinio({ stateDir, port: minioPort, timeoutMs }),
  ]);
  const endpoints: LocalEndpoints = {
    stateDir,
    temporalAddress,
    s3Endpoint: minio.endpoint,
    credentials: minio.credentials,
    ...(opts.ui ? { uiAddress: `http://127.0.0.1:${opts.uiPort ?? temporalPort + 1000}` } : {}),
  };
  await writeFile(paths(stateDir).endpoints, JSON.stringify({ ...endpoints, credentials: undefined }, null, 2));
  return endpoints;
}

/** Stops the servers `up` started for this state directory; data stays. Returns what was stopped. */
export async function down(stateDir = defaultStateDir()): Promise<string[]> {
  const [t, m] = await Promise.all([stopTemporal(stateDir), stopMinio(stateDir)]);
  return [...(t ? ['temporal'] : []), ...(m ? ['minio'] : [])];
}

/** Removes a state directory entirely (tests use this for their temporary ones). */
export async function destroyState(stateDir: string): Promise<void> {
  await down(stateDir);
  await rm(stateDir, { recursive: true, force: true });
}
