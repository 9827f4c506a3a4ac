/**
 * The retry policy per failure class: a closed list of error names (core/errors.ts) checked against every
 * error class the project defines, and the budgets the workflows give Temporal.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import { ERROR_CLASSES, NON_RETRYABLE_ERROR_TYPES } from '../../../core/errors';
import { parseConfigObject } from '../../../core/config';
import { encodeIdx, loadDataset } from '../../../data';
import { nonRetryableInput } from '../../../activities/runtime';
import { NON_RETRYABLE, retryOptions } from '../../../workflows/activities';

const root = join(__dirname, '..', '..', '..');

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.') || name === 'test') continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (name.endsWith('.ts')) out.push(p);
  }
  return out;
}

void test('every error class the project defines has a failure class, and its instances carry its name', () => {
  const found: string[] = [];
  for (const file of sources(root)) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/class (\w+) extends Error\b/g)) {
      const name = m[1]!;
      found.push(name);
      assert.ok(name in ERROR_CLASSES, `${relative(root, file)}: ${name} is not in core/errors.ts ERROR_CLASSES; classify it`);
      // Temporal types a thrown error by its `name`: a class that does not set it would read as "Error".
      assert.ok(new RegExp(`name = '${name}'`).test(text), `${relative(root, file)}: ${name} must set name = '${name}'`);
    }
  }
  assert.ok(found.length >= 10, `found only ${found.join(', ')}`);
});

void test('input, format, integrity and invariant errors are non-retryable; transient ones are not', () => {
  for (const name of ['InvalidInput', 'InvalidInputError', 'ZodError', 'RangeError', 'IntegrityError', 'DatasetFormatError', 'DatasetNotFoundError', 'InvalidKeyError', 'SearchProtocolError']) {
    assert.ok(NON_RETRYABLE.includes(name), name);
  }
  for (const name of ['Error', 'TypeError', 'WasmHeapError', 'BackendUnavailableError']) assert.ok(!NON_RETRYABLE.includes(name), name);
  assert.deepEqual(NON_RETRYABLE, NON_RETRYABLE_ERROR_TYPES);
  assert.equal(new z.ZodError([]).name, 'ZodError');
});

void test('an IDX file with one image fails the activity as non-retryable (it used to retry forever)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'scalenet-errors-'));
  const write = (name: string, n: number) => {
    writeFileSync(join(dir, `${name}-images`), encodeIdx([n, 4, 4], new Uint8Array(n * 16)));
    writeFileSync(join(dir, `${name}-labels`), encodeIdx([n], new Uint8Array(n)));
    return { images: join(dir, `${name}-images`), labels: join(dir, `${name}-labels`) };
  };
  const cfg = { kind: 'idx' as const, train: write('one', 1), test: write('test', 2) };
  assert.throws(() => {
    try {
      loadDataset(cfg, { minivalSize: 1 });
    } catch (err) {
      nonRetryableInput(err);
    }
  }, (err: unknown) => err instanceof ApplicationFailure && err.nonRetryable && err.type === 'RangeError');
});

void test('every activity kind has a bounded budget from resources.retries (attempts and schedule-to-close)', () => {
  const c = parseConfigObject({ name: 'r', resources: { retries: { evaluation: { maximumAttempts: 3, scheduleToCloseSeconds: 600 } } } });
  const ev = retryOptions(c, 'evaluation');
  assert.equal(ev.retry?.maximumAttempts, 3);
  assert.equal(ev.scheduleToCloseTimeout, '600 seconds');
  for (const kind of ['training', 'light'] as const) {
    const o = retryOptions(c, kind);
    assert.ok(Number.isInteger(o.retry?.maximumAttempts) && o.retry!.maximumAttempts! > 0, kind);
    assert.match(String(o.scheduleToCloseTimeout), /^\d+ seconds$/);
    assert.ok(o.retry!.nonRetryableErrorTypes!.includes('IntegrityError'));
  }
  assert.throws(() => parseConfigObject({ name: 'r', resources: { retries: { light: { maximumAttempts: 0 } } } }));
});
