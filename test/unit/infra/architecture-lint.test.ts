/**
 * The lint rules that keep workflows deterministic (DESIGN §2): a workflow file importing a Node
 * built-in, MinIO or TensorFlow.js is an error; importing core/ and @temporalio/workflow is fine.
 */
import assert from 'node:assert/strict';
import { writeFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ESLint } from 'eslint';

const root = join(__dirname, '..', '..', '..');
const probes: string[] = [];

async function lintWorkflowFile(code: string): Promise<string[]> {
  // A real file in workflows/: the type-aware lint config only lints files of the TypeScript project.
  const file = join(root, 'workflows', `lint-probe-${process.pid}-${probes.length}.ts`);
  probes.push(file);
  await writeFile(file, code);
  const [result] = await new ESLint({ cwd: root }).lintFiles([file]);
  return result!.messages.map((m) => `${m.ruleId}: ${m.message}`);
}

describe('workflow import rules', () => {
  after(async () => {
    for (const f of probes) await rm(f, { force: true });
  });

  for (const [what, line] of [
    ['fs', "import { readFileSync } from 'fs';\nexport const x = readFileSync;\n"],
    ['node:fs', "import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n"],
    ['minio', "import { Client } from 'minio';\nexport const x = Client;\n"],
    ['@tensorflow/tfjs', "import * as tf from '@tensorflow/tfjs';\nexport const x = tf;\n"],
    ['@tensorflow/tfjs-core', "import * as tf from '@tensorflow/tfjs-core';\nexport const x = tf;\n"],
  ] as const) {
    it(`rejects a workflow that imports ${what}`, async () => {
      const messages = await lintWorkflowFile(line);
      assert.ok(
        messages.some((m) => m.includes('no-restricted-imports')),
        `expected a restricted-import error, got: ${messages.join(' | ') || 'nothing'}`,
      );
    });
  }

  it('accepts a workflow that imports only core/ and @temporalio/workflow', async () => {
    const messages = await lintWorkflowFile(
      "import { sleep } from '@temporalio/workflow';\nimport { KEY_SEGMENT } from '../core/refs';\nexport async function w(): Promise<boolean> { await sleep(1); return KEY_SEGMENT.test('a'); }\n",
    );
    assert.deepEqual(messages, []);
  });
});
