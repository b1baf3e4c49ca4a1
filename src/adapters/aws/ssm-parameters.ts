import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { SignatureV4 } from '@smithy/signature-v4';

/**
 * SSM `GetParameter` (with decryption) as one SigV4-signed HTTPS POST, for the slack function's two
 * secrets. The SDK's SSM client would cost that function's cold start more than all of its own code
 * (BENCHMARKS.md, item 3) to make two calls per container; this reader is the SDK's own signer and
 * node:https (not `fetch`, whose first call loads undici: ~20 ms of cold start). Like the SDK, it takes credentials from the environment (Lambda always sets them there)
 * and honours `AWS_ENDPOINT_URL_SSM` / `AWS_ENDPOINT_URL` (DESIGN.md contract).
 */
export type ParameterReader = (name: string) => Promise<string | undefined>;

/** A failure, named like the SDK names it (`ParameterNotFound`, `ThrottlingException`, …), never carrying a value. */
export class ParameterReadError extends Error {
  override readonly name: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = code;
  }
}

/** Throttling and server errors are retried a few times; anything else is the caller's to report. */
const ATTEMPTS = 3;
const RETRY_BASE_MS = 100;
/** A cold start waits on this; Slack's ack deadline is 3 s (FACTS.md). */
const TIMEOUT_MS = 2_000;

/** What the reader needs of an HTTP client: one POST, the status and the body text. */
export type HttpPost = (
  url: URL,
  init: { headers: Record<string, string>; body: string },
) => Promise<{ status: number; text: string }>;

const nodePost: HttpPost = (url, init) =>
  new Promise((resolve, reject) => {
    const send = url.protocol === 'http:' ? httpRequest : httpsRequest;
    const req = send(url, { method: 'POST', headers: init.headers, timeout: TIMEOUT_MS }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end(init.body);
  });

export function createSignedParameterReader(opts: {
  env: Record<string, string | undefined>;
  /** Used when AWS_REGION is unset (keyturn.yml `aws.region`). */
  region: string;
  post?: HttpPost;
  sleep?: (ms: number) => Promise<void>;
}): ParameterReader {
  const { env } = opts;
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION || opts.region;
  const endpoint = new URL(env.AWS_ENDPOINT_URL_SSM || env.AWS_ENDPOINT_URL || defaultEndpoint(region));
  const send = opts.post ?? nodePost;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));

  async function once(name: string): Promise<string | undefined> {
    const accessKeyId = env.AWS_ACCESS_KEY_ID;
    const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
    if (!accessKeyId || !secretAccessKey)
      throw new ParameterReadError(
        'CredentialsMissing',
        'AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY are not set',
      );
    const signer = new SignatureV4({
      service: 'ssm',
      region,
      credentials: {
        accessKeyId,
        secretAccessKey,
        ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
      },
      sha256: Sha256,
    });
    const body = JSON.stringify({ Name: name, WithDecryption: true });
    const signed = await signer.sign({
      method: 'POST',
      protocol: endpoint.protocol,
      hostname: endpoint.hostname,
      ...(endpoint.port ? { port: Number(endpoint.port) } : {}),
      path: endpoint.pathname,
      query: {},
      headers: {
        host: endpoint.host,
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'AmazonSSM.GetParameter',
      },
      body,
    });
    let response: { status: number; text: string };
    try {
      response = await send(endpoint, { headers: signed.headers, body });
    } catch (error) {
      throw new ParameterReadError('NetworkError', `SSM is unreachable: ${(error as Error).message}`, {
        cause: error,
      });
    }
    const { text } = response;
    let answer: { Parameter?: { Value?: string }; __type?: string; message?: string; Message?: string };
    try {
      answer = text ? JSON.parse(text) : {};
    } catch {
      answer = {};
    }
    if (response.status < 200 || response.status > 299) {
      // `__type` is `ParameterNotFound` or `com.amazonaws.ssm#ParameterNotFound`.
      const code = answer.__type?.split('#').pop() || `HTTP${response.status}`;
      throw Object.assign(new ParameterReadError(code, answer.message ?? answer.Message ?? code), {
        status: response.status,
      });
    }
    return answer.Parameter?.Value;
  }

  return async (name) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await once(name);
      } catch (error) {
        const status = (error as { status?: number }).status;
        const code = (error as Error).name;
        const retryable =
          code === 'NetworkError' || code.startsWith('Throttling') || (status !== undefined && status >= 500);
        if (!retryable || attempt >= ATTEMPTS) throw error;
        await sleep(RETRY_BASE_MS * 2 ** (attempt - 1) * (0.5 + Math.random() / 2));
      }
    }
  };
}

function defaultEndpoint(region: string): string {
  return `https://ssm.${region}.${region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com'}`;
}

/** The signer's hash constructor, on node:crypto (HMAC when given a secret, as @smithy/hash-node does). */
class Sha256 {
  private readonly hash: Hash | Hmac;
  constructor(secret?: string | Uint8Array | ArrayBuffer | ArrayBufferView) {
    this.hash =
      secret === undefined
        ? createHash('sha256')
        : createHmac('sha256', typeof secret === 'string' ? secret : toBytes(secret));
  }
  update(data: string | Uint8Array | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(typeof data === 'string' ? data : toBytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
}

function toBytes(data: Uint8Array | ArrayBuffer | ArrayBufferView): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data);
}
