/** Temporal client access for the CLI, and reading a run's workflows and results. */
import { Client, Connection, WorkflowNotFoundError, type WorkflowExecutionDescription } from '@temporalio/client';
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

/** Describes a run, turning "not found" into a usage error that names the id. */
export async function describeRun(client: Client, runId: string): Promise<WorkflowExecutionDescription> {
  try {
    return await client.workflow.getHandle(runId).describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new UsageError(`no run with id "${runId}" (see \`scalenet list\`)`);
    throw err;
  }
}
