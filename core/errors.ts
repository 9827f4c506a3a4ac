/**
 * Errors for bad input: each issue names where it is (a config path or object key, e.g.
 * `stages[2][1]`) and what was wrong, so the CLI can print it and exit 2 and a workflow can fail the run
 * as non-retryable (DESIGN §4).
 */
import type { z } from 'zod';

/** One problem found in an input value. `path` is '' for the value as a whole. */
export interface InputIssue {
  readonly path: string;
  readonly message: string;
}

/** Formats a path like ['stages', 2, 1] as `stages[2][1]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out;
}

/** Bad input (config, space, architecture). `issues` lists every problem found, not just the first. */
export class InvalidInputError extends Error {
  override readonly name = 'InvalidInputError';
  constructor(
    /** What was being read, e.g. "architecture" or "config". */
    readonly subject: string,
    readonly issues: readonly InputIssue[],
  ) {
    super(`invalid ${subject}:\n` + issues.map((i) => `  ${i.path || '(root)'}: ${i.message}`).join('\n'));
  }
}

/** Converts zod issues (paths relative to `prefix`) into {@link InputIssue}s. */
export function issuesFromZod(error: z.ZodError, prefix: readonly PropertyKey[] = []): InputIssue[] {
  return error.issues.map((issue) => ({
    path: formatPath([...prefix, ...issue.path]),
    message: issue.message,
  }));
}
