/**
 * Decoding JPEG/PNG with sharp (libvips, prebuilt binaries from npm), checking files for prepare-data,
 * and the real-resolution transforms of image-folder datasets: random-resized-crop + flip for training,
 * shorter side to r/0.875 then centre crop r for evaluation (the ImageNet recipe, issue 13).
 */
import sharp from 'sharp';
import type { Rng } from '../core/rng';

// One decode per libuv thread is what the prefetch relies on; sharp's own cache only helps repeated files.
sharp.cache(false);

/** A file that cannot be used: the message names it and says why. */
export class BadImageError extends Error {
  constructor(readonly file: string, readonly reason: string) {
    super(`${file}: ${reason}`);
    this.name = 'BadImageError';
  }
}

/** What prepare-data learns from checking one file. */
export interface ImageProbe {
  width: number;
  height: number;
  /** Per-channel sums of pixel/255 and of its square over a 32×32 thumbnail (for normalisation). */
  sum: number[];
  sq: number[];
  pixels: number;
}

function sniff(bytes: Uint8Array): 'jpeg' | 'png' | null {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  const png = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (bytes.length >= 8 && png.every((b, i) => bytes[i] === b)) return 'png';
  return null;
}

/** sharp's input options: strict decoding (a truncated file is an error, not a grey tail) and the pixel cap. */
function open(bytes: Uint8Array, maxPixels: number): sharp.Sharp {
  return sharp(bytes, { failOn: 'truncated', limitInputPixels: maxPixels });
}

/** Converts to `channels` (1 = luminance, 3 = sRGB), dropping alpha. */
function toChannels(img: sharp.Sharp, channels: 1 | 3): sharp.Sharp {
  return channels === 1 ? img.removeAlpha().grayscale() : img.removeAlpha().toColourspace('srgb');
}

/** Raw pixels of a pipeline as exactly `channels` interleaved channels. */
async function raw(img: sharp.Sharp, channels: 1 | 3): Promise<Buffer> {
  const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
  if (info.channels === channels) return data;
  // libvips keeps a grey image single-banded through 'srgb'; widen it here.
  if (info.channels === 1 && channels === 3) {
    const out = Buffer.alloc(data.length * 3);
    for (let i = 0; i < data.length; i++) out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = data[i] as number;
    return out;
  }
  throw new Error(`decoder returned ${info.channels} channels where ${channels} were asked for`);
}

/** Header size of an image, with the pixel cap applied (so a bomb is refused before it is decoded). */
export async function imageSize(bytes: Uint8Array, file: string, maxPixels: number): Promise<{ width: number; height: number }> {
  const kind = sniff(bytes);
  if (!kind) throw new BadImageError(file, `not a JPEG or PNG file (${bytes.length} bytes starting ${Buffer.from(bytes.subarray(0, 4)).toString('hex') || 'empty'})`);
  let meta: sharp.Metadata;
  try {
    meta = await sharp(bytes).metadata();
  } catch (err) {
    throw new BadImageError(file, `corrupt ${kind.toUpperCase()} header: ${(err as Error).message}`);
  }
  const { width, height } = meta;
  if (!width || !height) throw new BadImageError(file, `corrupt ${kind.toUpperCase()}: no image size in its header`);
  if (width * height > maxPixels) {
    throw new BadImageError(file, `${width}×${height} = ${width * height} pixels exceeds dataset.maxPixels (${maxPixels}), refused as a possible decompression bomb`);
  }
  return { width, height };
}

const JPEG_SOS = Buffer.from([0xff, 0xda]);
const JPEG_EOI = Buffer.from([0xff, 0xd9]);
// The IEND chunk's type and CRC are fixed bytes, so this cannot match by chance inside compressed data.
const PNG_IEND = Buffer.from([0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82]);

/**
 * What can be learnt from a file without decoding its pixels: that it is a JPEG/PNG, its header size
 * (within the pixel cap) and that it is not cut short (a JPEG's end-of-image marker after its last scan,
 * a PNG's IEND chunk). A few header reads per file instead of a decode: what `data inspect` uses to
 * answer in seconds; damage inside the compressed data is only found by the full decode of prepare-data.
 * @throws BadImageError
 */
export async function checkImageHeader(bytes: Uint8Array, file: string, maxPixels: number): Promise<{ width: number; height: number }> {
  const size = await imageSize(bytes, file, maxPixels);
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (sniff(bytes) === 'jpeg') {
    // Inside entropy-coded data every 0xFF byte is followed by 0x00 or a restart marker, so the last
    // start-of-scan is the real one and the end-of-image marker must come after it.
    if (buf.lastIndexOf(JPEG_EOI) < buf.lastIndexOf(JPEG_SOS)) throw new BadImageError(file, 'truncated JPEG: no end-of-image marker after its last scan (the file was cut short)');
  } else if (buf.lastIndexOf(PNG_IEND) < 0) {
    throw new BadImageError(file, 'truncated PNG: no IEND chunk (the file was cut short)');
  }
  return size;
}

/** Checks that a file is a JPEG/PNG that decodes completely within the pixel cap. @throws BadImageError */
export async function probeImage(bytes: Uint8Array, file: string, args: { maxPixels: number; channels: 1 | 3 }): Promise<ImageProbe> {
  const { width, height } = await imageSize(bytes, file, args.maxPixels);
  let data: Buffer;
  try {
    data = await raw(toChannels(open(bytes, args.maxPixels).resize(32, 32, { fit: 'fill' }), args.channels), args.channels);
  } catch (err) {
    throw new BadImageError(file, `cannot be decoded (truncated or corrupt): ${(err as Error).message}`);
  }
  const c = args.channels;
  const sum = new Array<number>(c).fill(0);
  const sq = new Array<number>(c).fill(0);
  for (let i = 0; i < data.length; i++) {
    const v = (data[i] as number) / 255;
    sum[i % c]! += v;
    sq[i % c]! += v * v;
  }
  return { width, height, sum, sq, pixels: data.length / c };
}

/** A crop in source pixels. */
export interface CropBox {
  left: number;
  top: number;
  width: number;
  height: number;
}

/**
 * Random-resized-crop box (torchvision's algorithm): up to 10 draws of an area fraction in `scale` and a
 * log-uniform aspect ratio in `ratio`; if none fits, the centre crop with the ratio clamped to the range.
 */
export function randomResizedCropBox(width: number, height: number, rng: Rng, scale: readonly [number, number], ratio: readonly [number, number]): CropBox {
  const area = width * height;
  const [lr0, lr1] = [Math.log(ratio[0]), Math.log(ratio[1])];
  for (let attempt = 0; attempt < 10; attempt++) {
    const target = area * (scale[0] + (scale[1] - scale[0]) * rng.float());
    const r = Math.exp(lr0 + (lr1 - lr0) * rng.float());
    const w = Math.round(Math.sqrt(target * r));
    const h = Math.round(Math.sqrt(target / r));
    if (w > 0 && h > 0 && w <= width && h <= height) {
      return { left: rng.int(0, width - w), top: rng.int(0, height - h), width: w, height: h };
    }
  }
  const inRatio = width / height;
  let w = width;
  let h = height;
  if (inRatio < ratio[0]) h = Math.round(w / ratio[0]);
  else if (inRatio > ratio[1]) w = Math.round(h * ratio[1]);
  return { left: Math.floor((width - w) / 2), top: Math.floor((height - h) / 2), width: w, height: h };
}

/** How one image becomes an r×r input. */
export type ImageTransform =
  | { kind: 'train'; box: CropBox; flip: boolean }
  /** `size`: the source's header size when the caller already read it (saves a second header read). */
  | { kind: 'eval'; size?: { width: number; height: number } };

/** The crop fraction of the evaluation transform: shorter side resized to r/0.875, centre r×r kept. */
export const EVAL_CROP_FRACTION = 0.875;

/**
 * Decodes `bytes` into r×r×channels uint8 pixels with `transform`. With a train transform, or an eval one
 * that carries the size, the decode is queued on libuv's pool before this returns (no await comes first),
 * which is what lets a stream decode the next batch while the caller computes synchronously.
 * @throws BadImageError
 */
export async function decodeImage(bytes: Uint8Array, file: string, resolution: number, channels: 1 | 3, transform: ImageTransform, maxPixels: number): Promise<Uint8Array> {
  try {
    let img = open(bytes, maxPixels);
    if (transform.kind === 'train') {
      img = img.extract(transform.box).resize(resolution, resolution, { fit: 'fill' });
      if (transform.flip) img = img.flop();
    } else {
      // extract() after resize() crops the resized image (sharp applies them in call order).
      const { width = 1, height = 1 } = transform.size ?? await sharp(bytes).metadata();
      const short = Math.max(resolution, Math.round(resolution / EVAL_CROP_FRACTION));
      const [w, h] = width <= height ? [short, Math.max(short, Math.round((short * height) / width))] : [Math.max(short, Math.round((short * width) / height)), short];
      img = img.resize(w, h, { fit: 'fill' }).extract({ left: Math.floor((w - resolution) / 2), top: Math.floor((h - resolution) / 2), width: resolution, height: resolution });
    }
    return new Uint8Array(await raw(toChannels(img, channels), channels));
  } catch (err) {
    if (err instanceof BadImageError) throw err;
    throw new BadImageError(file, `cannot be decoded: ${(err as Error).message}`);
  }
}
