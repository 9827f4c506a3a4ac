/**
 * Liveness that means progress: keepAlive heartbeats while work moves and stops once nothing has progressed
 * for `noProgressSeconds`, so Temporal hands a stalled attempt (a hung store read, a stuck device) to another
 * worker. Timers are mocked: the test steps the clock instead of waiting.
 */
import assert from 'node:assert/strict';
import { mock, test } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { keepAlive, noteProgress } from '../../../activities/runtime';

void test('keepAlive heartbeats while work progresses and stops after noProgressSeconds without progress', async () => {
  mock.timers.enable({ apis: ['setInterval', 'Date'], now: 1_000_000 });
  try {
    const env = new MockActivityEnvironment();
    let beats = 0;
    env.on('heartbeat', () => { beats += 1; });
    let finish!: () => void;
    const work = new Promise<void>((r) => { finish = r; });
    const running = env.run(() => keepAlive(work, { step: 1 }, { noProgressSeconds: 5 }));
    const beatsOver = (seconds: number, progress: boolean) => {
      const before = beats;
      for (let i = 0; i < seconds; i++) {
        if (progress) noteProgress();
        mock.timers.tick(1_000);
      }
      return beats - before;
    };
    assert.equal(beatsOver(3, false), 3, 'heartbeats in the first seconds');
    assert.equal(beatsOver(10, true), 10, 'heartbeats while steps complete');
    beatsOver(5, false);
    assert.equal(beatsOver(30, false), 0, 'no heartbeat once nothing moved for noProgressSeconds');
    assert.equal(beatsOver(3, true), 3, 'heartbeats again when work moves again');
    finish();
    await running;
    assert.equal(beatsOver(3, true), 0, 'nothing after the work is done');
  } finally {
    mock.timers.reset();
  }
});
