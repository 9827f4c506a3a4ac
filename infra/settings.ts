/**
 * Connection settings for the CLI, workers and tests: the environment first (DESIGN §5), then what
 * `scalenet up` recorded in the local state directory, then the local defaults.
 */
import { defaultStateDir, localCredentials, readEndpoints } from './local';

export interface Settings {
  temporalAddress: string;
  temporalNamespace: string;
  s3Endpoint: string;
  s3AccessKey: string;
  s3SecretKey: string;
  bucket: string;
}

export const DEFAULT_BUCKET = 'scalenet';

/** Resolves the settings. Never throws for a missing local state: the defaults are returned. */
export async function resolveSettings(env: NodeJS.ProcessEnv = process.env): Promise<Settings> {
  const stateDir = env.SCALENET_HOME ?? defaultStateDir();
  const local = await readEndpoints(stateDir);
  const creds =
    env.SCALENET_S3_ACCESS_KEY && env.SCALENET_S3_SECRET_KEY
      ? { accessKey: env.SCALENET_S3_ACCESS_KEY, secretKey: env.SCALENET_S3_SECRET_KEY }
      : await localCredentials(stateDir);
  return {
    temporalAddress: env.TEMPORAL_ADDRESS ?? local?.temporalAddress ?? '127.0.0.1:7233',
    temporalNamespace: env.TEMPORAL_NAMESPACE ?? 'default',
    s3Endpoint: env.SCALENET_S3_ENDPOINT ?? local?.s3Endpoint ?? 'http://127.0.0.1:9000',
    s3AccessKey: creds.accessKey,
    s3SecretKey: creds.secretKey,
    bucket: env.SCALENET_BUCKET ?? DEFAULT_BUCKET,
  };
}
