/**
 * Background server processes tracked by pidfiles, so `down` stops exactly what `up` started and `up`
 * twice never leaves two servers. A pidfile records the pid and the binary; a pid is trusted only while
 * /proc says it still runs that binary (pids are reused).
 */
import { spawn } from 'node:child_process';
import { openSync, closeSync, readFileSync, existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface PidRecord {
  pid: number;
  binary: string;
  args: string[];
  startedAt: string;
}

/** True when `pid` is alive and runs `binary` (per /proc/PID/cmdline). */
export function isRunning(rec: Pick<PidRecord, 'pid' | 'binary'>): boolean {
  try {
    process.kill(rec.pid, 0);
  } catch {
    return false;
  }
  try {
    const cmdline = readFileSync(`/proc/${rec.pid}/cmdline`, 'utf8');
    if (cmdline === '') return false; // zombie: exited, not yet reaped
    return cmdline.split('\0')[0] === rec.binary;
  } catch {
    return false;
  }
}

export async function readPidfile(path: string): Promise<PidRecord | undefined> {
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(await readFile(path, 'utf8')) as PidRecord;
  } catch {
    return undefined; // a torn write from a crash: treat as absent
  }
}

/** Starts `binary args` detached from this process, output appended to `logFile`, and writes the pidfile. */
export async function startDetached(opts: {
  binary: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  logFile: string;
  pidfile: string;
}): Promise<PidRecord> {
  await mkdir(dirname(opts.logFile), { recursive: true });
  await mkdir(dirname(opts.pidfile), { recursive: true });
  const fd = openSync(opts.logFile, 'a');
  try {
    const child = spawn(opts.binary, opts.args, {
      detached: true,
      stdio: ['ignore', fd, fd],
      env: opts.env ?? process.env,
    });
    const pid = await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('spawn', () => resolve(child.pid!));
    });
    child.unref();
    const rec: PidRecord = { pid, binary: opts.binary, args: opts.args, startedAt: new Date().toISOString() };
    await writeFile(opts.pidfile, JSON.stringify(rec, null, 2));
    return rec;
  } finally {
    closeSync(fd);
  }
}

/** Polls `check` until it returns a value or `timeoutMs` passes; the error names what was awaited. */
export async function waitFor<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>, intervalMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const why = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * Stops the process of a pidfile: SIGTERM, then SIGKILL after `graceMs`, waits until it is gone, removes
 * the pidfile. Returns false when nothing of ours was running.
 */
export async function stopByPidfile(pidfile: string, graceMs = 10_000): Promise<boolean> {
  const rec = await readPidfile(pidfile);
  if (!rec || !isRunning(rec)) {
    await rm(pidfile, { force: true });
    return false;
  }
  process.kill(rec.pid, 'SIGTERM');
  try {
    await waitFor(`pid ${rec.pid} to exit`, graceMs, async () => (isRunning(rec) ? undefined : true), 100);
  } catch {
    process.kill(rec.pid, 'SIGKILL');
    await waitFor(`pid ${rec.pid} to exit after SIGKILL`, 5_000, async () => (isRunning(rec) ? undefined : true), 50);
  }
  await rm(pidfile, { force: true });
  return true;
}
