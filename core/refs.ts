/**
 * References to objects in the artifact store. Tensors and weights never travel through Temporal payloads
 * (2 MB per payload, 50 MB per history, DESIGN §2); workflows pass these small references instead.
 */
import { z } from 'zod';

/** One stored object, pinned by its content hash. */
export const ObjectRefSchema = z.object({
  bucket: z.string().min(3).max(63).regex(/^[a-z0-9][a-z0-9.-]+[a-z0-9]$/, 'bucket: lower-case letters, digits, dots and dashes'),
  key: z.string().min(1).max(1024),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'sha256: 64 lower-case hex digits'),
  bytes: z.number().int().nonnegative(),
});
export type ObjectRef = z.infer<typeof ObjectRefSchema>;

/** Characters allowed in one key segment: no slashes, no leading dot, so no `..` and no absolute paths. */
export const KEY_SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._=+-]{0,199}$/;
