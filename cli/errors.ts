/** Exit codes of the `scalenet` command (DESIGN §5). */
import { InvalidArgumentError } from 'commander';
export const EXIT = { ok: 0, other: 1, badInput: 2 } as const;

/** Bad input from the user (config, file, argument): exits 2 with the message, no stack trace. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Option parser: a finite number ≥ `min` (commander prints the flag and the message; exit 2). */
export function numberAtLeast(min: number, max = Number.MAX_SAFE_INTEGER): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n < min || n > max) throw new InvalidArgumentError(`expected a number from ${min} to ${max}, got "${v}"`);
    return n;
  };
}

/** Option parser: a whole number from 1 to `max`. */
export function positiveInteger(max = Number.MAX_SAFE_INTEGER): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (!/^\s*\d+\s*$/.test(v) || !Number.isSafeInteger(n) || n < 1 || n > max) throw new InvalidArgumentError(`expected a whole number from 1 to ${max}, got "${v}"`);
    return n;
  };
}
