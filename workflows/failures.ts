/**
 * Deterministic code run inside a workflow (core/) gives the same answer on every replay: an error it throws
 * would fail the workflow task again and again, and the run would show "running" forever. These helpers turn
 * such an error into a non-retryable failure of the run, with the reason.
 */
import { ApplicationFailure } from '@temporalio/workflow';

/** Runs pure `body`; an error becomes a non-retryable failure "`what`: message" of type the error's name. */
export function deterministic<T>(what: string, body: () => T): T {
  try {
    return body();
  } catch (err) {
    if (err instanceof ApplicationFailure) throw err;
    const e = err as Error;
    throw ApplicationFailure.nonRetryable(`${what}: ${e.message}`, e.name || 'Error');
  }
}
