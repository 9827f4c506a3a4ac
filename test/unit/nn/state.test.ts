import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SupernetTrainer, type TrainerHeader } from '../../../nn/trainer';
import { describeOnEngineBackends, microData, microSpace } from './helpers';

const recipe = { batchSize: 16, steps: 40, warmupSteps: 2 };

describeOnEngineBackends((backend) => {
  test('train N, save, restore in a fresh process, train M → bit-identical to N+M uninterrupted steps', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'scalenet-state-'));
    const trainer = SupernetTrainer.create({ space: microSpace(), data: microData(), seed: 11, recipe });
    try {
      await trainer.train(4);
      const saved = await trainer.serialize();
      writeFileSync(join(dir, 'state.json'), JSON.stringify(saved.header));
      writeFileSync(join(dir, 'state.bin'), saved.bytes);
      assert.equal(saved.header.step, 4);
      assert.ok(JSON.stringify(saved.header).length < 64 * 1024, 'header stays small JSON');

      await trainer.train(5);
      const uninterrupted = await trainer.serialize();

      execFileSync(process.execPath, ['--import', 'tsx', join(__dirname, 'resume-child.ts'), dir, '5', backend], { stdio: 'pipe' });
      const childBytes = new Uint8Array(readFileSync(join(dir, 'child.bin')));
      const childHeader = JSON.parse(readFileSync(join(dir, 'child.json'), 'utf8')) as TrainerHeader;

      assert.equal(childHeader.step, 9);
      assert.deepEqual(childHeader.samplerRng, uninterrupted.header.samplerRng);
      assert.deepEqual(childHeader.data, uninterrupted.header.data);
      assert.equal(childBytes.length, uninterrupted.bytes.length);
      assert.ok(Buffer.from(childBytes).equals(Buffer.from(uninterrupted.bytes)), 'weights and momentum differ from the uninterrupted run');
    } finally {
      trainer.dispose();
    }
  });

  test('restore rejects a state saved for another space, naming both', async () => {
    const trainer = SupernetTrainer.create({ space: microSpace(), data: microData(), seed: 1, recipe });
    const state = await trainer.serialize();
    trainer.dispose();
    const other = { ...microSpace(), name: 'other', classes: 5 };
    assert.throws(() => SupernetTrainer.restore({ space: other, data: microData() }, state), /saved for space "micro".*"other"/);
    const truncated = { header: state.header, bytes: state.bytes.subarray(0, 100) };
    assert.throws(() => SupernetTrainer.restore({ space: microSpace(), data: microData() }, truncated), /does not fit a 100-byte blob/);
  });
});
