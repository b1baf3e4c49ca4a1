import { IAMClient, type IAMClientConfig } from '@aws-sdk/client-iam';
import { SSMClient } from '@aws-sdk/client-ssm';

/**
 * IAM throttles with `Throttling` and publishes no rate (FACTS.md), so retry generously by default.
 * Standard retry mode: each throttled call backs off on its own (exponential, jittered). Adaptive
 * mode would also rate-limit the whole client after one `Throttling`, so a sweep's 1,000 revokes
 * queued behind a limiter near 0.5 calls/s: 1,000 expiries took 695 s instead of 26 s (BENCHMARKS.md, item 5).
 */
export const DEFAULT_AWS_MAX_ATTEMPTS = 8;
export const MAX_ATTEMPTS_ENV = 'KEYTURN_AWS_MAX_ATTEMPTS';

/**
 * How long one attempt may wait. The SDK sets no timeout of its own: a connection that drops without a
 * word waits for the OS (minutes), and with it the job, the sweep or the event that made the call, until
 * Lambda's own timeout ends the invocation. IAM and SSM answer in well under a second, so an attempt
 * that opens no connection in 3 s, or hears nothing for 10 s, is given up and retried like any transient
 * failure. A write whose answer was lost this way is safe to retry: IAM's create and delete calls read
 * EntityAlreadyExists and NoSuchEntity as done (iam-access-control.ts), a lost SendCommand is looked
 * up by its comment (start-run.ts), and a conditional DynamoDB write that finds itself stored counts
 * as written (dynamodb/entity-store.ts).
 */
export const AWS_ATTEMPT_LIMITS = { connectionTimeoutMs: 3_000, requestTimeoutMs: 10_000 };

/** The SDK's Node request handler with those limits; `throwOnRequestTimeout`, or the SDK only logs a warning. */
export function limitedRequestHandler(limits: typeof AWS_ATTEMPT_LIMITS = AWS_ATTEMPT_LIMITS) {
  return {
    connectionTimeout: limits.connectionTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    throwOnRequestTimeout: true,
  };
}

/** The retry strategy type both clients accept (they share it through @smithy/types). */
export type AwsRetryStrategy = NonNullable<IAMClientConfig['retryStrategy']>;

export interface AwsClientOptions {
  /** keyturn.yml `aws.region`; `AWS_REGION`, when set, wins. */
  region: string;
  /**
   * Replaces standard mode's strategy. For tests only: after a throttle, standard mode backs off
   * up to seconds (doubling per retry, jittered) — right for IAM, too slow for a test.
   */
  retryStrategy?: (maxAttempts: number) => AwsRetryStrategy;
  /** Replaces AWS_ATTEMPT_LIMITS. For tests only: a hung endpoint is seen in milliseconds, not seconds. */
  limits?: typeof AWS_ATTEMPT_LIMITS;
}

export interface AwsClientConfig {
  region?: string;
  maxAttempts: number;
  retryMode: 'standard';
  retryStrategy?: AwsRetryStrategy;
  requestHandler: ReturnType<typeof limitedRequestHandler>;
}

/**
 * Settings shared by every AWS client Keyturn builds. Endpoints are deliberately absent: the SDK
 * (v3.1169, @smithy/core endpoints `getEndpointFromConfig`) reads `AWS_ENDPOINT_URL_<SERVICE ID>`
 * (`_IAM`, `_SSM`, `_DYNAMODB`), then `AWS_ENDPOINT_URL`, then the shared config file, on its own.
 */
export function awsClientConfig(opts: AwsClientOptions): AwsClientConfig {
  const env = process.env;
  const maxAttempts = maxAttemptsFrom(env);
  return {
    // An explicit `region` beats AWS_REGION inside the SDK, so hand it over only when the variable
    // is unset and let the SDK's own loader read AWS_REGION otherwise.
    ...(env.AWS_REGION ? {} : { region: opts.region }),
    maxAttempts,
    retryMode: 'standard',
    ...(opts.retryStrategy ? { retryStrategy: opts.retryStrategy(maxAttempts) } : {}),
    requestHandler: limitedRequestHandler(opts.limits),
  };
}

export function buildAwsClients(opts: AwsClientOptions): { iam: IAMClient; ssm: SSMClient } {
  const config = awsClientConfig(opts);
  return { iam: new IAMClient(config), ssm: new SSMClient(config) };
}

function maxAttemptsFrom(env: NodeJS.ProcessEnv): number {
  const raw = env[MAX_ATTEMPTS_ENV];
  if (raw === undefined || raw.trim() === '') return DEFAULT_AWS_MAX_ATTEMPTS;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 50) {
    throw new Error(`${MAX_ATTEMPTS_ENV}: '${raw}' is not a whole number of attempts from 1 to 50`);
  }
  return value;
}
