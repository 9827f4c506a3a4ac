/** Errors raised by the dataset readers. */

/**
 * A dataset file does not have the expected layout. The message names the file, the byte offset where
 * reading went wrong and what was expected there, so a user can tell a truncated download from a wrong file.
 */
export class DatasetFormatError extends Error {
  constructor(
    readonly file: string,
    readonly offset: number,
    readonly expected: string,
    readonly found?: string,
  ) {
    super(`${file}: at byte ${offset}: expected ${expected}${found !== undefined ? `, found ${found}` : ''}`);
    this.name = 'DatasetFormatError';
  }
}

/** A dataset config points at something that is not there (missing file, package not installed). */
export class DatasetNotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DatasetNotFoundError';
  }
}
