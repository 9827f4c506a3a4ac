/** The bytes read back do not match the reference: the object was altered or corrupted after it was written. */
export class IntegrityError extends Error {
  constructor(
    readonly bucket: string,
    readonly key: string,
    readonly expected: { sha256: string; bytes: number },
    readonly actual: { sha256: string; bytes: number },
  ) {
    super(
      `object ${bucket}/${key} failed verification: expected sha256 ${expected.sha256} (${expected.bytes} bytes), ` +
        `found sha256 ${actual.sha256} (${actual.bytes} bytes); it was altered or corrupted after it was written`,
    );
    this.name = 'IntegrityError';
  }
}

/** A key or reference given to the store is malformed; the message names the offending part. */
export class InvalidKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidKeyError';
  }
}

/** The object does not exist. */
export class ObjectNotFoundError extends Error {
  constructor(readonly bucket: string, readonly key: string) {
    super(`object ${bucket}/${key} does not exist`);
    this.name = 'ObjectNotFoundError';
  }
}

/**
 * True for a failure that says the object itself is bad or gone (a fallback to an older one is right), false
 * for a transient one (storage unreachable, a timeout): then falling back would silently lose newer work, so
 * the caller must rethrow and let the activity retry.
 */
export function isDamagedObject(err: unknown): boolean {
  const name = (err as Error | undefined)?.name;
  return err instanceof IntegrityError || err instanceof ObjectNotFoundError || name === 'SyntaxError' || name === 'ZodError';
}

/** A store request got no answer (or a read no data) within the store's timeout: transient, retried. */
export class StoreTimeoutError extends Error {
  constructor(readonly what: string, readonly ms: number) {
    super(`${what}: no answer from the object store within ${ms} ms`);
    this.name = 'StoreTimeoutError';
  }
}
