/** Temporal client access for the CLI, and reading a run's workflows and results. */
import { Client, Connection, WorkflowNotFoundError, type WorkflowExecutionDescription } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { resolveSettings, type Settings } from '../infra/settings';
import { storeFromSettings } from '../workers/main';
import type { ArtifactStore } from '../storage/store';
import { UsageError } from './errors';

export interface Clients {
  client: Client;
  store: ArtifactStore;
  settings: Settings;
  close: () => Promise<void>;
}

export async function connect(): Promise<Clients> {
  const settings = await resolveSettings();
  let connection: Connection;
  try {
    connection = await Connection.connect({ address: settings.temporalAddress, connectTimeout: 5_000 });
  } catch (err) {
    throw new Error(
      `cannot reach Temporal at ${settings.temporalAddress} (${(err as Error).message}). Start the local servers with \`scalenet up\`, or set TEMPORAL_ADDRESS`,
    );
  }
  return {
    client: new Client({ connection, namespace: settings.temporalNamespace }),
    store: storeFromSettings(settings),
    settings,
    close: () => connection.close(),
  };
}

/** Runs `body` with connected clients and closes them afterwards. */
export async function withClients<T>(body: (c: Clients) => Promise<T>): Promise<T> {
  const c = await connect();
  try {
    return await body(c);
  } finally {
    await c.close();
  }
}

/** The user-facing state of a workflow execution. */
export type RunState = 'running' | 'completed' | 'failed' | 'cancelled' | 'terminated' | 'timed_out' | 'continued_as_new' | 'unknown';

export function runState(desc: WorkflowExecutionDescription): RunState {
  switch (desc.status.name) {
    case 'RUNNING': return 'running';
    case 'COMPLETED': return 'completed';
    case 'FAILED': return 'failed';
    case 'CANCELLED': return 'cancelled';
    case 'TERMINATED': return 'terminated';
    case 'TIMED_OUT': return 'timed_out';
    case 'CONTINUED_AS_NEW': return 'continued_as_new';
    default: return 'unknown';
  }
}

/**
 * Describes a run, turning "not found" into a usage error that names the id, and refusing the id of a stage
 * workflow (`<run>.<stage>`): every command takes the run's id.
 */
export async function describeRun(client: Client, runId: string): Promise<WorkflowExecutionDescription> {
  let desc: WorkflowExecutionDescription;
  try {
    desc = await client.workflow.getHandle(runId).describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new UsageError(`no run with id "${runId}" (see \`scalenet list\`)`);
    throw err;
  }
  if (desc.type !== 'scaleNetRun') {
    const parent = runId.includes('.') ? runId.slice(0, runId.indexOf('.')) : null;
    throw new UsageError(`"${runId}" is a ${desc.type} stage workflow, not a run${parent ? `; use its run id: ${parent}` : ''} (see \`scalenet list\`)`);
  }
  return desc;
}

type Failure = temporal.api.failure.v1.IFailure;

/** One line from a failure chain: stage and activity where it happened, retries spent, and the root message. */
export function describeFailure(f: Failure | null | undefined): string | null {
  if (!f) return null;
  const where: string[] = [];
  let budget = '';
  let last = f;
  for (let c: Failure | null | undefined = f; c; c = c.cause) {
    last = c;
    const child = c.childWorkflowExecutionFailureInfo;
    if (child?.workflowExecution?.workflowId) where.push(`stage ${child.workflowExecution.workflowId}`);
    const act = c.activityFailureInfo;
    if (act?.activityType?.name) {
      where.push(`activity ${act.activityType.name}`);
      const rs = String(act.retryState ?? '');
      if (rs === 'RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED' || rs === '4') budget = ' (retry budget spent: maximum attempts reached)';
      else if (rs === 'RETRY_STATE_TIMEOUT' || rs === '3') budget = ' (retry budget spent: schedule-to-close timeout)';
    }
  }
  const type = last.applicationFailureInfo?.type ? `${last.applicationFailureInfo.type}: ` : '';
  return `${where.length ? `${where.join(', ')}${budget}: ` : ''}${type}${last.message ?? 'failed'}`;
}

/** Why a closed run failed (from the last event of its history), or null when it did not fail. */
export async function runFailure(client: Client, runId: string): Promise<string | null> {
  const h = await client.workflow.getHandle(runId).fetchHistory();
  const events = h.events ?? [];
  const last = events[events.length - 1];
  if (last?.workflowExecutionFailedEventAttributes) return describeFailure(last.workflowExecutionFailedEventAttributes.failure);
  if (last?.workflowExecutionTimedOutEventAttributes) return 'the run timed out';
  return null;
}
