/**
 * The run lifecycle: `run`, `list`, `status`, `watch`, `history`, `results`, `resume`, `cancel`.
 * Every read command has --json with a stable shape (documented in the README).
 */
import { availableParallelism } from 'node:os';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { Command } from 'commander';
import { configHash, parseConfigObject, withMachineDefaults, type RunConfig } from '../../core/config';
import { runCost } from '../../core/cost';
import { InvalidInputError } from '../../core/errors';
import { supernetMismatches, supernetReuseError } from '../../core/lineage';
import { validateRunConfig } from '../../core/validate';
import { ConfigMismatchError } from '../../storage/checkpoints';
import { claimRunPrefix } from '../../storage/run-owner';
import { RUN_ID, CONFIG_HASH, CONFIG_NAME, STAGE } from '../../workflows/search-attributes';
import type { RunProgress } from '../../workflows/progress';
import { MIN_HEARTBEAT_TIMEOUT_SECONDS } from '../../workflows/activities';
import { withoutRemovedFields, type RunInput } from '../../workflows/run';
import { describeRun, runFailure, runState, withClients, type Clients } from '../client';
import { loadConfigFile } from '../config-file';
import { numberAtLeast, positiveInteger, UsageError } from '../errors';
import { runHistory } from '../history';
import { followRun } from '../progress';
import { costTable, familyTable, loadResults } from '../results';

const RUN_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/;

/** A fresh run id from the config name and the time (no dots: stage workflow ids append `.stage`). */
export function newRunId(config: RunConfig, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${config.name.replace(/\./g, '-')}-${stamp}`;
}

function checkRunId(id: string): string {
  if (!RUN_ID_PATTERN.test(id)) throw new UsageError(`--id: "${id}" is not a valid run id: use 1-100 letters, digits, "_" or "-", starting with a letter or digit`);
  return id;
}

/**
 * Starts the parent workflow of a run with its search attributes. `run` refuses an id that exists;
 * `resume` starts the same id again after its previous execution closed.
 */
function startScaleNetRun(client: Client, input: RunInput, taskQueue: string, hash: string, reuse: 'REJECT_DUPLICATE' | 'ALLOW_DUPLICATE') {
  return client.workflow.start('scaleNetRun', {
    workflowId: input.runId,
    taskQueue,
    args: [input],
    workflowIdReusePolicy: reuse,
    typedSearchAttributes: [
      { key: RUN_ID, value: input.runId },
      { key: STAGE, value: 'prepare-data' },
      { key: CONFIG_HASH, value: hash },
      { key: CONFIG_NAME, value: input.config.name ?? '' },
    ],
  });
}

/**
 * `supernet.from`: refuses (exit 2) a source run that has not completed, or whose config differs in anything
 * that decides the supernet's weights, naming each field. The workflow checks again before using it.
 */
async function checkSupernetSource(clients: Clients, config: RunConfig): Promise<void> {
  const from = config.supernet.from;
  if (!from) return;
  const source = await loadResults(clients.client, clients.store, from);
  const diffs = supernetMismatches(parseConfigObject(source.config), config);
  if (diffs.length > 0) throw supernetReuseError(from, diffs);
}

const STATES: Record<string, string> = {
  running: 'Running', completed: 'Completed', failed: 'Failed', cancelled: 'Canceled', terminated: 'Terminated', timed_out: 'TimedOut',
};

/** The visibility query behind `scalenet list` and its filters (values are checked, so nothing is injected). */
export function listQuery(f: { name?: string; state?: string; configHash?: string }): string {
  const parts = ["WorkflowType = 'scaleNetRun'"];
  if (f.name !== undefined) {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(f.name)) throw new UsageError(`--name: "${f.name}" is not a config name (letters, digits, ".", "_", "-")`);
    parts.push(`ScaleNetConfigName = '${f.name}'`);
  }
  if (f.state !== undefined) {
    const s = STATES[f.state];
    if (!s) throw new UsageError(`--state: "${f.state}" is not one of ${Object.keys(STATES).join(', ')}`);
    parts.push(`ExecutionStatus = '${s}'`);
  }
  if (f.configHash !== undefined) {
    if (!/^[0-9a-f]{64}$/.test(f.configHash)) throw new UsageError(`--config-hash: "${f.configHash}" is not a config hash (64 lower-case hex digits, as \`scalenet list --json\` prints)`);
    parts.push(`ScaleNetConfigHash = '${f.configHash}'`);
  }
  return parts.join(' AND ');
}

/**
 * Starts a run; refuses an id that is running or already exists, and an id whose store prefix belongs to
 * another config (unless `force`, which deletes that prefix first).
 */
export async function startRun(opts: { config: RunConfig; runId: string; heartbeatTimeoutSeconds?: number; force?: boolean }): Promise<string> {
  // `auto` settings are decided here, on the submitting machine, so the run records what it used.
  const config = withMachineDefaults(opts.config, availableParallelism());
  return withClients(async (clients) => {
    const { client, store } = clients;
    await checkSupernetSource(clients, config);
    const input: RunInput = { runId: opts.runId, config, tuning: { heartbeatTimeoutSeconds: opts.heartbeatTimeoutSeconds } };
    const taken = (state: string) => new UsageError(
      state === 'running'
        ? `run ${opts.runId} is already running; follow it with \`scalenet watch ${opts.runId}\``
        : `run id ${opts.runId} is taken (its run is ${state}); continue it with \`scalenet resume ${opts.runId}\` or choose another --id`,
    );
    const existing = await client.workflow.getHandle(opts.runId).describe().catch((err: unknown) => {
      if (err instanceof WorkflowNotFoundError) return null;
      throw err;
    });
    if (existing) throw taken(runState(existing));
    const hash = configHash(config);
    try {
      await claimRunPrefix(store, opts.runId, hash, { force: opts.force });
    } catch (err) {
      if (err instanceof ConfigMismatchError) throw new UsageError(`run id ${opts.runId}: ${err.message}`);
      throw err;
    }
    try {
      await startScaleNetRun(client, input, config.resources.taskQueues.light, hash, 'REJECT_DUPLICATE');
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) throw taken(runState(await describeRun(client, opts.runId)));
      throw err;
    }
    return opts.runId;
  });
}

async function follow(runId: string, json: boolean): Promise<string> {
  return withClients(({ client }) => followRun(client, runId, { json }));
}

function exitForState(state: string): void {
  if (state !== 'completed') process.exitCode = 1;
}

export function registerRunCommands(program: Command): void {
  program
    .command('run')
    .description('start a search run from a config file (YAML or JSON) and follow its progress')
    .argument('<config>', 'run config file (see `scalenet schema`, examples/*.yaml)')
    .option('--id <runId>', 'run id (default: <config name>-<UTC time>)')
    .option('--detach', 'start the run and return at once', false)
    .option('--json', 'progress as one JSON event per line', false)
    .option('--force', 'use the run id even if its store prefix holds another config\'s run (deletes that run\'s objects)', false)
    .option('--heartbeat-timeout <seconds>', `how fast a lost compute worker is noticed (${MIN_HEARTBEAT_TIMEOUT_SECONDS} to 3600)`, numberAtLeast(MIN_HEARTBEAT_TIMEOUT_SECONDS, 3600), 60)
    .option('--supernet-from <runId>', 'reuse the trained super-supernet and prepared data of this completed run (sets supernet.from)')
    .action(async (file: string, o: { id?: string; detach: boolean; json: boolean; force: boolean; heartbeatTimeout: number; supernetFrom?: string }) => {
      const loaded = loadConfigFile(file);
      const config = o.supernetFrom === undefined ? loaded : parseConfigObject({ ...loaded, supernet: { ...loaded.supernet, from: o.supernetFrom } });
      const runId = checkRunId(o.id ?? newRunId(config));
      await startRun({ config, runId, heartbeatTimeoutSeconds: o.heartbeatTimeout, force: o.force });
      if (o.json) console.log(JSON.stringify({ event: 'started', runId }));
      else console.error(`started run ${runId}`);
      if (o.detach) {
        if (!o.json) console.log(runId);
        return;
      }
      const state = await follow(runId, o.json);
      if (!o.json) console.error(`run ${runId} ${state}${state === 'completed' ? `; see \`scalenet results ${runId}\`` : ''}`);
      exitForState(state);
    });

  program
    .command('list')
    .description('runs, newest first, with their state and stage')
    .option('--limit <n>', 'at most this many runs (1 to 10000)', positiveInteger(10_000), 20)
    .option('--name <config>', 'only runs of the config with this name')
    .option('--state <state>', `only runs in this state (${Object.keys(STATES).join(', ')})`)
    .option('--config-hash <sha256>', 'only runs of exactly this resolved config')
    .option('--json', 'print JSON lines', false)
    .action(async (o: { limit: number; json: boolean; name?: string; state?: string; configHash?: string }) =>
      withClients(async ({ client }) => {
        const rows = [];
        for await (const w of client.workflow.list({ query: listQuery(o) })) {
          rows.push({
            runId: w.workflowId,
            name: w.typedSearchAttributes.get(CONFIG_NAME) ?? null,
            state: w.status.name.toLowerCase().replace('canceled', 'cancelled'),
            stage: w.typedSearchAttributes.get(STAGE) ?? null,
            configHash: w.typedSearchAttributes.get(CONFIG_HASH) ?? null,
            start: w.startTime.toISOString(),
            end: w.closeTime?.toISOString() ?? null,
          });
          if (rows.length >= o.limit) break;
        }
        rows.sort((a, b) => (a.start < b.start ? 1 : -1));
        if (o.json) rows.forEach((r) => console.log(JSON.stringify(r)));
        else if (rows.length === 0) console.log('no runs yet; start one with `scalenet run CONFIG` or `scalenet demo`');
        else rows.forEach((r) => console.log(`${r.runId.padEnd(40)} ${r.state.padEnd(10)} ${String(r.stage ?? '').padEnd(15)} ${r.start}`));
      }),
    );

  program
    .command('status')
    .description('state and stage of a run (with --json: {runId, state, stage, start, end, progress})')
    .argument('<runId>')
    .option('--json', 'print JSON', false)
    .action(async (runId: string, o: { json: boolean }) =>
      withClients(async ({ client }) => {
        const desc = await describeRun(client, runId);
        const state = runState(desc);
        let progress: RunProgress | null = null;
        if (state === 'running') progress = await client.workflow.getHandle(runId).query<RunProgress>('progress').catch(() => null);
        const stage = progress?.stage ?? desc.typedSearchAttributes.get(STAGE) ?? null;
        const failure = state === 'failed' || state === 'timed_out' ? await runFailure(client, runId) : null;
        const out = { runId, state, stage, start: desc.startTime.toISOString(), end: desc.closeTime?.toISOString() ?? null, failure, progress };
        if (o.json) console.log(JSON.stringify(out));
        else {
          console.log(`${runId}: ${state}${stage ? `, stage ${stage}` : ''} (started ${out.start}${out.end ? `, ended ${out.end}` : ''})`);
          if (failure) console.log(`  reason: ${failure}`);
        }
      }),
    );

  program
    .command('watch')
    .description('follow a run live until it ends')
    .argument('<runId>')
    .option('--json', 'one JSON event per line', false)
    .action(async (runId: string, o: { json: boolean }) => {
      const state = await follow(runId, o.json);
      if (!o.json) console.error(`run ${runId} ${state}`);
      exitForState(state);
    });

  program
    .command('history')
    .description('audit trail per stage: attempts, worker, start, end, duration, outcome, artifacts')
    .argument('<runId>')
    .option('--json', 'print {format, runId, entries[]}', false)
    .action(async (runId: string, o: { json: boolean }) =>
      withClients(async ({ client }) => {
        await describeRun(client, runId);
        const h = await runHistory(client, runId);
        const failure = await runFailure(client, runId);
        if (o.json) {
          console.log(JSON.stringify({ ...h, failure }, null, 2));
          return;
        }
        for (const e of h.entries) {
          const dur = e.durationSeconds === null ? 'running' : `${e.durationSeconds.toFixed(1)}s`;
          console.log(`${e.start}  ${e.stage.padEnd(15)} ${e.activity.padEnd(20)} ${e.outcome.padEnd(9)} attempts ${e.attempts}  ${dur.padStart(8)}  ${e.worker ?? ''}`);
          if (e.lastFailure) console.log(`    last failure: ${e.lastFailure}`);
          for (const n of e.notes) console.log(`    note: ${n}`);
        }
        if (failure) console.log(`run failed: ${failure}`);
      }),
    );

  program
    .command('results')
    .description('the family table: model, multipliers, resolution, MACs, params, supernet / retrained / baseline accuracy')
    .argument('<runId>')
    .option('--json', 'print results.json (format scalenet.results/v1) with its cost (scalenet.cost/v1)', false)
    .action(async (runId: string, o: { json: boolean }) =>
      withClients(async ({ client, store }) => {
        const r = await loadResults(client, store, runId);
        const cost = runCost(r, (await runHistory(client, runId)).entries);
        console.log(o.json ? JSON.stringify({ ...r, cost }, null, 2) : `${familyTable(r)}\n\n${costTable(cost)}`);
      }),
    );

  program
    .command('resume')
    .description('continue a failed, terminated or cancelled run from its last finished stage and checkpoint')
    .argument('<runId>')
    .option('--detach', 'return once resumed', false)
    .option('--json', 'progress as JSON lines', false)
    .action(async (runId: string, o: { detach: boolean; json: boolean }) => {
      const resumed = await withClients(async ({ client }) => {
        const desc = await describeRun(client, runId);
        const state = runState(desc);
        if (state === 'completed') {
          console.log(`run ${runId} already completed; nothing to resume (see \`scalenet results ${runId}\`)`);
          return false;
        }
        if (state === 'running') {
          console.log(`run ${runId} is running; nothing to resume (follow it with \`scalenet watch ${runId}\`)`);
          return false;
        }
        const history = await client.workflow.getHandle(runId).fetchHistory();
        const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
        const input = defaultPayloadConverter.fromPayload(started!.input!.payloads![0]!) as RunInput;
        try {
          // The check `run` made, repeated: a config that can no longer run is refused before it is submitted.
          validateRunConfig(withoutRemovedFields(input.config));
        } catch (err) {
          if (err instanceof InvalidInputError) throw new UsageError(`run ${runId} cannot be resumed: ${err.message}`);
          throw err;
        }
        await startScaleNetRun(client, input, started!.taskQueue!.name!, desc.typedSearchAttributes.get(CONFIG_HASH) ?? '', 'ALLOW_DUPLICATE');
        console.error(`resumed run ${runId} (was ${state})`);
        return true;
      });
      if (!resumed || o.detach) return;
      const state = await follow(runId, o.json);
      exitForState(state);
    });

  program
    .command('cancel')
    .description('cancel a running run; its stages stop cleanly and keep their checkpoints')
    .argument('<runId>')
    .action(async (runId: string) =>
      withClients(async ({ client }) => {
        const state = runState(await describeRun(client, runId));
        if (state !== 'running') {
          console.log(`run ${runId} is ${state}; nothing to cancel`);
          return;
        }
        await client.workflow.getHandle(runId).cancel();
        console.log(`cancellation requested for ${runId}; \`scalenet status ${runId}\` shows when it has stopped`);
      }),
    );
}
