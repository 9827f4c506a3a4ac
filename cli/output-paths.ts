/**
 * Output paths of `report --out` and `export --out`, checked before any work starts (a run's downloads can
 * take minutes): the folder must be writable, and an existing file is only replaced with `--force`.
 */
import { constants, accessSync, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UsageError } from './errors';

function statOrNull(path: string) {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}

/** Creates `dir` when missing and checks that it is a writable folder; throws {@link UsageError} naming `flag`. */
export function ensureWritableDir(dir: string, flag = '--out'): void {
  const st = statOrNull(dir);
  if (st && !st.isDirectory()) throw new UsageError(`${flag}: ${dir} exists and is not a folder`);
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
  } catch (err) {
    throw new UsageError(`${flag}: cannot write into ${dir}: ${(err as Error).message}`);
  }
}

/** Checks that `file` can be written: its folder is writable, and it does not exist unless `force`. */
export function checkOutputFile(file: string, force: boolean, flag = '--out'): void {
  const st = statOrNull(file);
  if (st?.isDirectory()) throw new UsageError(`${flag}: ${file} is a folder; give a file name`);
  if (st && !force) throw new UsageError(`${flag}: ${file} already exists; choose another name or pass --force to overwrite it`);
  ensureWritableDir(dirname(resolve(file)), flag);
}
