/**
 * `scalenet data inspect` reads headers only (issue 13: seconds for thousands of images): sizes come from
 * the headers, and every bad file a header shows — not an image, a corrupt header, a cut-short JPEG or
 * PNG, a decompression bomb — is listed with its path, while valid files with trailing bytes are not.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { inspectFolder } from '../../../cli/commands/data';

test('inspect reports classes, counts, header sizes and every bad file with its path and reason', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'scalenet-inspect-'));
  try {
    const px = (w: number, h: number) => sharp(Buffer.alloc(w * h * 3, 90).map((_, i) => (i * 13) % 256), { raw: { width: w, height: h, channels: 3 } });
    for (const split of ['train', 'test']) for (const c of ['cat', 'dog']) mkdirSync(join(dir, split, c), { recursive: true });
    const jpeg = await px(40, 30).jpeg().toBuffer();
    const png = await px(20, 50).png({ compressionLevel: 0 }).toBuffer();
    writeFileSync(join(dir, 'train', 'cat', 'a.jpg'), jpeg);
    writeFileSync(join(dir, 'train', 'cat', 'b.png'), png);
    // Bytes after the end-of-image marker (some cameras append data) do not make a file bad.
    writeFileSync(join(dir, 'train', 'dog', 'padded.jpg'), Buffer.concat([jpeg, Buffer.alloc(100, 0x55)]));
    writeFileSync(join(dir, 'train', 'dog', 'cut.jpg'), jpeg.subarray(0, jpeg.length - 40));
    writeFileSync(join(dir, 'train', 'dog', 'cut.png'), png.subarray(0, png.length / 2));
    writeFileSync(join(dir, 'train', 'dog', 'notes.txt'), 'hello');
    writeFileSync(join(dir, 'train', 'dog', 'header.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4, 5, 6, 7, 8]));
    writeFileSync(join(dir, 'test', 'cat', 'big.png'), await sharp({ create: { width: 8000, height: 6000, channels: 3, background: '#808080' } }).png().toBuffer());
    writeFileSync(join(dir, 'test', 'dog', 'ok.png'), png);

    const r = await inspectFolder(dir);
    assert.deepEqual(r.classes, ['cat', 'dog']);
    assert.deepEqual(Object.keys(r.splits), ['train', 'test']);
    const train = r.splits.train!;
    assert.equal(train.images, 3);
    assert.deepEqual(train.perClass, { cat: 2, dog: 1 });
    assert.deepEqual(train.sizes, { '30x40': 2, '50x20': 1 });
    const reasons = Object.fromEntries(train.bad.map((b) => [b.file.slice(dir.length + 1), b.reason]));
    assert.deepEqual(Object.keys(reasons).sort(), ['train/dog/cut.jpg', 'train/dog/cut.png', 'train/dog/header.jpg', 'train/dog/notes.txt']);
    assert.match(reasons['train/dog/cut.jpg']!, /^truncated JPEG/);
    assert.match(reasons['train/dog/cut.png']!, /^truncated PNG/);
    assert.match(reasons['train/dog/header.jpg']!, /corrupt JPEG/);
    assert.match(reasons['train/dog/notes.txt']!, /not a JPEG or PNG/);
    const test = r.splits.test!;
    assert.equal(test.images, 1);
    assert.equal(test.bad.length, 1);
    assert.equal(test.bad[0]!.file, join(dir, 'test', 'cat', 'big.png'));
    assert.match(test.bad[0]!.reason, /48000000 pixels exceeds/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
