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
  return convert(error.issues, prefix);
}

type RawIssue = z.core.$ZodIssue;

/** Depth of the deepest path in a branch's issues: the union branch that got furthest is the one meant. */
function reach(issues: readonly RawIssue[]): number {
  return Math.max(...issues.map((i) => i.path.length + (i.code === 'unrecognized_keys' ? 0 : 1)));
}

function convert(issues: readonly RawIssue[], prefix: readonly PropertyKey[]): InputIssue[] {
  return issues.flatMap((issue): InputIssue[] => {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      // Report the alternative that matched best instead of a bare "Invalid input".
      const best = issue.errors.reduce((a, b) => (reach(b) > reach(a) ? b : a));
      if (reach(best) > 1) return convert(best, path);
    }
    if (issue.code === 'unrecognized_keys') {
      // One issue per key, located at the key itself, so the message points at the typo.
      return issue.keys.map((key) => ({ path: formatPath([...path, key]), message: 'unknown field: remove it or check its spelling' }));
    }
    if (issue.code === 'invalid_type' && / received undefined$/.test(issue.message)) {
      return [{ path: formatPath(path), message: `required field is missing (expected ${issue.expected})` }];
    }
    return [{ path: formatPath(path), message: issue.message }];
  });
}

/**
 * How a retry treats a failure, by error name (the `type` Temporal gives a failure thrown from an activity).
 * input, format, integrity and invariant failures give the same answer on every attempt: they fail at once.
 * transient ones (storage or a worker briefly gone) retry, within the budget of `resources.retries`.
 */
export type FailureClass = 'input' | 'format' | 'integrity' | 'invariant' | 'transient';

/**
 * Every error class the project defines (a unit test greps `extends Error` and checks that each is listed),
 * plus the JavaScript and zod errors that reach activities, with its failure class. A closed list: an error
 * not named here is transient.
 */
export const ERROR_CLASSES: Readonly<Record<string, FailureClass>> = {
  /** ApplicationFailure type of an {@link InvalidInputError} converted in a workflow or an activity. */
  InvalidInput: 'input',
  InvalidInputError: 'input',
  UsageError: 'input',
  ZodError: 'input',
  DatasetNotFoundError: 'input',
  InvalidKeyError: 'input',
  /** A run id whose store prefix holds another config's run. */
  ConfigMismatchError: 'input',
  RunPrefixConflict: 'input',
  DatasetFormatError: 'format',
  /** An image of an image-folder dataset that cannot be decoded or breaks a limit (pixels, channels). */
  BadImageError: 'format',
  /** A referenced object whose bytes do not match its sha256, or that is gone: re-reading gives the same. */
  IntegrityError: 'integrity',
  ObjectNotFoundError: 'integrity',
  /** Deterministic code asked for something impossible (an empty IDX file, a level that does not exist). */
  RangeError: 'invariant',
  SearchProtocolError: 'invariant',
  /** An exported model whose logits differ from the engine's: the same export would differ again. */
  ExportCheckError: 'invariant',
  ExtrapolationError: 'invariant',
  /** The object store did not answer in time (after the store's own bounded retries). */
  StoreTimeoutError: 'transient',
  /** This process's wasm heap is corrupt; another attempt (the worker restarts it) may succeed. */
  WasmHeapError: 'transient',
  /** This worker lacks the backend; another worker may have it. */
  BackendUnavailableError: 'transient',
  /** Installer and tool errors of infra/: never thrown in an activity, listed so the list stays closed. */
  NativeTfInstallError: 'transient',
  NativeTfBuildError: 'transient',
  MissingToolError: 'transient',
};

/** The error names no retry can fix (for Temporal's `nonRetryableErrorTypes`). */
export const NON_RETRYABLE_ERROR_TYPES: readonly string[] = Object.entries(ERROR_CLASSES)
  .filter(([, c]) => c !== 'transient')
  .map(([name]) => name);
