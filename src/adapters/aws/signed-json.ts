import { createHash, createHmac } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

/**
 * AWS's JSON protocol (`POST /`, `X-Amz-Target: <Service>.<Operation>`, a JSON body) as one SigV4-signed
 * request over node:http(s), retried as the SDK's standard mode retries. The slack function's only AWS
 * transport (its ack path: the DynamoDB item calls, SQS SendMessage, the two Slack secrets), because the
 * SDK's clients cost its cold start more than all of Keyturn's own code (BENCHMARKS.md, item 3). Not
 * `fetch`, whose first call loads undici (~20 ms). Credentials come from the environment, where Lambda
 * puts the role's; endpoints honour `AWS_ENDPOINT_URL_<SERVICE>` / `AWS_ENDPOINT_URL` as the SDK does.
 */

/** What a caller needs of an HTTP client: one POST, the status, the headers it reads and the body text. */
export type HttpPost = (
  url: URL,
  init: { headers: Record<string, string>; body: string },
) => Promise<{ status: number; text: string; headers?: Record<string, string | undefined> }>;

/** Per attempt; a cold start waits on this, and Slack's ack deadline is 3 s (FACTS.md). */
const TIMEOUT_MS = 2_000;

/** node:http(s), the default `post`; exported for tests that watch the wire. */
export const nodePost: HttpPost = (url, init) =>
  new Promise((resolve, reject) => {
    const send = url.protocol === 'http:' ? httpRequest : httpsRequest;
    const req = send(url, { method: 'POST', headers: init.headers, timeout: TIMEOUT_MS }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          text: Buffer.concat(chunks).toString('utf8'),
          headers: {
            'x-amzn-errortype': header(res.headers['x-amzn-errortype']),
            'x-amzn-requestid': header(res.headers['x-amzn-requestid']),
          },
        }),
      );
      res.on('error', reject);
    });
    req.on('timeout', () =>
      req.destroy(Object.assign(new Error(`no answer within ${TIMEOUT_MS} ms`), { code: 'ETIMEDOUT' })),
    );
    req.on('error', reject);
    req.end(init.body);
  });

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * A failure, named as the SDK names it (`ConditionalCheckFailedException`, `ParameterNotFound`, …) with
 * the SDK's `$fault` and `$metadata`, and the error body's other fields (DynamoDB's `Item` for a failed
 * condition). Never carries a request's body or credentials.
 */
export class AwsJsonError extends Error {
  override readonly name: string;
  readonly $fault: 'client' | 'server';
  readonly $metadata: { httpStatusCode?: number; requestId?: string; attempts?: number };
  constructor(
    code: string,
    message: string,
    meta: { status?: number; requestId?: string; fields?: Record<string, unknown>; cause?: unknown },
  ) {
    super(message, meta.cause === undefined ? undefined : { cause: meta.cause });
    if (meta.fields) Object.assign(this, meta.fields);
    this.name = code;
    this.$fault = meta.status !== undefined && meta.status < 500 ? 'client' : 'server';
    this.$metadata = {
      ...(meta.status !== undefined ? { httpStatusCode: meta.status } : {}),
      ...(meta.requestId ? { requestId: meta.requestId } : {}),
    };
  }
}

/** The SDK's standard retry mode (@smithy/service-error-classification): throttling, transient, 5xx. */
const THROTTLING = new Set([
  'BandwidthLimitExceeded',
  'EC2ThrottledException',
  'LimitExceededException',
  'PriorRequestNotComplete',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'ThrottledException',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'TransactionInProgressException',
]);
const TRANSIENT = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException']);
const NETWORK = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
]);
/** The SDK's defaults: 3 attempts, full jitter over 100 ms × 2^n (500 ms after throttling), at most 20 s. */
export const DEFAULT_ATTEMPTS = 3;
const BASE_MS = 100;
const THROTTLED_BASE_MS = 500;
const MAX_DELAY_MS = 20_000;

export function isThrottling(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return THROTTLING.has(e.name ?? '') || e.$metadata?.httpStatusCode === 429;
}

export function isRetryable(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  const status = e.$metadata?.httpStatusCode;
  return (
    isThrottling(error) ||
    TRANSIENT.has(e.name ?? '') ||
    e.name === 'NetworkError' ||
    (status !== undefined && status >= 500)
  );
}

/** What every signed adapter takes: where its credentials and region come from, and test seams. */
export type SignedCallOptions = Pick<JsonServiceOptions, 'env' | 'region' | 'post' | 'sleep'>;

export interface JsonServiceOptions {
  /** The signing name: `dynamodb`, `sqs`, `ssm`. */
  service: string;
  /** `DynamoDB_20120810`, `AmazonSQS`, `AmazonSSM`. */
  targetPrefix: string;
  /** `1.0` (DynamoDB, SQS) or `1.1` (SSM). */
  jsonVersion: '1.0' | '1.1';
  env: Record<string, string | undefined>;
  /** Used when AWS_REGION is unset (keyturn.yml `aws.region`). */
  region: string;
  /** The endpoint when no AWS_ENDPOINT_URL_<SERVICE> / AWS_ENDPOINT_URL is set; default `https://<service>.<region>.amazonaws.com`. */
  defaultEndpoint?: URL;
  post?: HttpPost;
  sleep?: (ms: number) => Promise<void>;
  now?: () => Date;
  random?: () => number;
  maxAttempts?: number;
}

/**
 * One signed, retried JSON-protocol call: the operation, its input and, for SQS, the queue URL's origin,
 * which the SDK's SQS client also sends to in preference to its configured endpoint (`useQueueUrlAsEndpoint`).
 */
export type JsonCall = (
  operation: string,
  input: unknown,
  endpoint?: URL,
) => Promise<Record<string, unknown>>;

export function regionOf(env: Record<string, string | undefined>, fallback: string): string {
  return env.AWS_REGION || env.AWS_DEFAULT_REGION || fallback;
}

/** `AWS_ENDPOINT_URL_DYNAMODB`, then `AWS_ENDPOINT_URL`, as the SDK reads them (service id upper-cased). */
export function configuredEndpoint(
  env: Record<string, string | undefined>,
  serviceId: string,
): URL | undefined {
  const url = env[`AWS_ENDPOINT_URL_${serviceId.toUpperCase().replace(/ /g, '_')}`] || env.AWS_ENDPOINT_URL;
  return url ? new URL(url) : undefined;
}

export function awsEndpoint(service: string, region: string): URL {
  return new URL(
    `https://${service}.${region}.${region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com'}`,
  );
}

/** Only the signed call's own options, whatever else the adapter was given. */
export function signed(opts: SignedCallOptions): SignedCallOptions {
  return {
    env: opts.env,
    region: opts.region,
    ...(opts.post ? { post: opts.post } : {}),
    ...(opts.sleep ? { sleep: opts.sleep } : {}),
  };
}

export function createJsonCall(opts: JsonServiceOptions): JsonCall {
  const { env } = opts;
  const region = regionOf(env, opts.region);
  const configured = configuredEndpoint(env, opts.service);
  const fallback = opts.defaultEndpoint ?? awsEndpoint(opts.service, region);
  const send = opts.post ?? nodePost;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const now = opts.now ?? (() => new Date());
  const random = opts.random ?? Math.random;
  const attempts = opts.maxAttempts ?? DEFAULT_ATTEMPTS;
  const contentType = `application/x-amz-json-${opts.jsonVersion}`;

  async function once(operation: string, body: string, endpoint: URL): Promise<Record<string, unknown>> {
    const accessKeyId = env.AWS_ACCESS_KEY_ID;
    const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
    if (!accessKeyId || !secretAccessKey)
      throw new AwsJsonError(
        'CredentialsMissing',
        'AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY are not set',
        {},
      );
    const headers = signV4({
      service: opts.service,
      region,
      url: endpoint,
      headers: {
        'content-type': contentType,
        'x-amz-target': `${opts.targetPrefix}.${operation}`,
      },
      body,
      credentials: { accessKeyId, secretAccessKey, sessionToken: env.AWS_SESSION_TOKEN },
      date: now(),
    });
    let response: Awaited<ReturnType<HttpPost>>;
    try {
      // Sent, not signed (as the SDK does): without it node:http would send the body chunked.
      response = await send(endpoint, {
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        body,
      });
    } catch (error) {
      const code = (error as { code?: string }).code;
      throw new AwsJsonError(
        code !== undefined && !NETWORK.has(code) ? code : 'NetworkError',
        `${opts.service} is unreachable: ${(error as Error).message}`,
        { cause: error },
      );
    }
    let answer: Record<string, unknown> | undefined;
    try {
      answer = response.text ? (JSON.parse(response.text) as Record<string, unknown>) : {};
    } catch {
      answer = undefined;
    }
    const ok = response.status >= 200 && response.status <= 299;
    // An answer that cannot be read is never taken for an empty one (a GetItem's "no such item").
    if (ok && answer === undefined)
      throw new AwsJsonError('DeserializationError', `${opts.service} ${operation}: unreadable answer`, {
        status: response.status,
      });
    if (ok) return answer ?? {};
    answer ??= {};
    // `__type` is `ConditionalCheckFailedException` or `com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException`.
    const raw =
      response.headers?.['x-amzn-errortype'] ??
      (typeof answer.__type === 'string' ? answer.__type : undefined) ??
      (typeof answer.code === 'string' ? answer.code : undefined);
    const code = raw ? sanitizeErrorCode(raw) : `HTTP${response.status}`;
    const { __type: _type, message, Message, ...fields } = answer;
    throw new AwsJsonError(code, String(message ?? Message ?? code), {
      status: response.status,
      ...(response.headers?.['x-amzn-requestid'] ? { requestId: response.headers['x-amzn-requestid'] } : {}),
      fields,
    });
  }

  return async (operation, input, endpoint) => {
    const body = JSON.stringify(input);
    const url = endpoint ?? configured ?? fallback;
    for (let attempt = 1; ; attempt++) {
      try {
        return await once(operation, body, url);
      } catch (error) {
        if (!isRetryable(error) || attempt >= attempts) {
          if (error instanceof AwsJsonError) error.$metadata.attempts = attempt;
          throw error;
        }
        const base = isThrottling(error) ? THROTTLED_BASE_MS : BASE_MS;
        await sleep(Math.floor(Math.min(MAX_DELAY_MS, random() * 2 ** (attempt - 1) * base)));
      }
    }
  };
}

/** As the SDK's JSON protocols do: `a#B:c` → `B`. */
function sanitizeErrorCode(raw: string): string {
  let code = raw;
  if (code.includes(':')) code = code.split(':')[0] ?? code;
  if (code.includes('#')) code = code.split('#')[1] ?? code;
  return code;
}

const sha256 = (data: string) => createHash('sha256').update(data, 'utf8').digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();

/** RFC 3986 escaping, as SigV4 wants it (encodeURIComponent leaves !'()* alone). */
function escapeUri(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * SigV4 for a POST with no query string (AWS's "Create a signed AWS API request" steps), on node:crypto:
 * the headers to send, `authorization` included. test/unit/adapters/signed-json.test.ts checks it
 * against the SDK's own signer (@smithy/signature-v4) for the same request and time.
 */
export function signV4(req: {
  service: string;
  region: string;
  url: URL;
  headers: Record<string, string>;
  body: string;
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string | undefined };
  date: Date;
}): Record<string, string> {
  const amzDate = req.date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
  const day = amzDate.slice(0, 8);
  const payloadHash = sha256(req.body);
  const headers: Record<string, string> = {
    ...Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k.toLowerCase(), v])),
    host: req.url.host,
    // As the SDK's signer sends it (optional outside S3, and signed).
    'x-amz-content-sha256': payloadHash,
    'x-amz-date': amzDate,
    ...(req.credentials.sessionToken ? { 'x-amz-security-token': req.credentials.sessionToken } : {}),
  };
  const names = Object.keys(headers).sort();
  const signedHeaders = names.join(';');
  // Non-S3 services take the path's segments escaped again (the URL's own are escaped once already).
  const path = (req.url.pathname || '/').split('/').map(escapeUri).join('/');
  const canonical = [
    'POST',
    path,
    '',
    ...names.map((n) => `${n}:${String(headers[n]).trim().replace(/\s+/g, ' ')}`),
    '',
    signedHeaders,
    payloadHash,
  ].join('\n');
  const scope = `${day}/${req.region}/${req.service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
  let key = hmac(`AWS4${req.credentials.secretAccessKey}`, day);
  for (const part of [req.region, req.service, 'aws4_request']) key = hmac(key, part);
  const signature = createHmac('sha256', key).update(toSign, 'utf8').digest('hex');
  return {
    ...headers,
    authorization: `AWS4-HMAC-SHA256 Credential=${req.credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
  };
}
