/** In-memory image sets shared by the readers, the split and the batcher. */

/**
 * A set of images stored as one contiguous uint8 buffer in NHWC order (what every reader produces),
 * with integer class labels. Uint8 keeps 60k Fashion-MNIST images at 47 MB instead of 188 MB.
 */
export interface ImageSet {
  /** `count · height · width · channels` bytes, image-major, then row, column, channel. */
  readonly images: Uint8Array;
  /** One label per image, in [0, classes). */
  readonly labels: Int32Array;
  readonly count: number;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
}

/** Bytes of one image. */
export function imageBytes(set: Pick<ImageSet, 'height' | 'width' | 'channels'>): number {
  return set.height * set.width * set.channels;
}

/** The images at `indices`, copied into a new set (used for splits). */
export function subset(set: ImageSet, indices: ArrayLike<number>): ImageSet {
  const per = imageBytes(set);
  const images = new Uint8Array(indices.length * per);
  const labels = new Int32Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const j = indices[i] as number;
    images.set(set.images.subarray(j * per, (j + 1) * per), i * per);
    labels[i] = set.labels[j] as number;
  }
  return { images, labels, count: indices.length, height: set.height, width: set.width, channels: set.channels };
}
