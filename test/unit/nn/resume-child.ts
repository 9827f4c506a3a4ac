/**
 * Child process of state.test.ts: restores a serialized supernet trainer from `dir`, trains `steps`
 * more steps on `backend` and writes the resulting state bytes to `dir/child.bin`. A fresh process proves that
 * nothing but the serialized state carries over.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend } from '../../../nn/backend';
import { SupernetTrainer, type TrainerHeader } from '../../../nn/trainer';
import { microData, microSpace } from './helpers';

async function run(): Promise<void> {
  const [dir, steps, backend] = process.argv.slice(2) as [string, string, 'wasm' | 'tensorflow'];
  await initBackend(backend, { log: () => {} });
  const header = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as TrainerHeader;
  const bytes = new Uint8Array(readFileSync(join(dir, 'state.bin')));
  const trainer = SupernetTrainer.restore({ space: microSpace(), data: microData() }, { header, bytes });
  await trainer.train(Number(steps));
  const state = await trainer.serialize();
  writeFileSync(join(dir, 'child.bin'), state.bytes);
  writeFileSync(join(dir, 'child.json'), JSON.stringify(state.header));
}

run().catch((err) => {
  console.error(err);
  process.exit(1);
});
