/**
 * Writes the histories of every workflow of a run as replay fixtures: the History protobuf in binary
 * (`.binpb`), named after the workflow id with the run id replaced by NAME. Binary because this
 * dependency tree holds several copies of protobufjs, and the SDK's JSON reader rejects messages built
 * by another copy; the binary form decodes with @temporalio/proto alone.
 *
 *   npx tsx scripts/dump-histories.ts RUN_ID DIR [NAME]      (server from TEMPORAL_ADDRESS / scalenet up)
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { temporal } from '@temporalio/proto';
import { withClients } from '../cli/client';

async function main(): Promise<void> {
  const [runId, dir, name = 'tiny'] = process.argv.slice(2);
  if (!runId || !dir) throw new Error('usage: dump-histories.ts RUN_ID DIR [NAME]');
  await mkdir(dir, { recursive: true });
  await withClients(async ({ client }) => {
    for await (const w of client.workflow.list({ query: `ScaleNetRunId = '${runId}'` })) {
      const history = await client.workflow.getHandle(w.workflowId, w.runId).fetchHistory();
      const file = join(dir, `${w.workflowId.replace(runId, name)}.binpb`);
      await writeFile(file, temporal.api.history.v1.History.encode(history).finish());
      console.log(file);
    }
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
