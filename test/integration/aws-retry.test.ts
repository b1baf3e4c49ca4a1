import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import { createIamAccessControl } from '../../src/adapters/aws/iam-access-control';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { awsClientConfig, buildAwsClients } from '../../src/main/aws-clients';
import { AccessControlError } from '../../src/ports/access-control';
import { AWS_ENV, savedEnv } from '../support/env';

/**
 * aws-sdk-client-mock replaces `send`, so SDK retries never run under it. Here a real IAMClient
 * from buildAwsClients talks the IAM query protocol to a local server over HTTP.
 */

const ACCOUNT = '123456789012';
const POLICY_ARN = `arn:aws:iam::${ACCOUNT}:policy/keyturn/keyturn-a1b2`;
const alice = { kind: 'user', name: 'alice' } as const;
const XMLNS = 'https://iam.amazonaws.com/doc/2010-05-08/';

const throttled = `<ErrorResponse xmlns="${XMLNS}">
  <Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error>
  <RequestId>7a62c49f-347e-4fc4-9331-6e8eEXAMPLE</RequestId>
</ErrorResponse>`;
const attached = `<AttachUserPolicyResponse xmlns="${XMLNS}">
  <ResponseMetadata><RequestId>7a62c49f-347e-4fc4-9331-6e8eEXAMPLE</RequestId></ResponseMetadata>
</AttachUserPolicyResponse>`;

interface FakeIam {
  server: Server;
  url: string;
  /** Parsed form bodies of every request, in order. */
  requests: URLSearchParams[];
  /** Decides the answer to request number n (1-based). */
  answer: (n: number) => { status: number; body: string };
}

async function startFakeIam(): Promise<FakeIam> {
  const fake: FakeIam = {
    server: createServer(),
    url: '',
    requests: [],
    answer: () => ({ status: 200, body: attached }),
  };
  fake.server.on('request', async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    fake.requests.push(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
    const { status, body } = fake.answer(fake.requests.length);
    res.writeHead(status, { 'content-type': 'text/xml' }).end(body);
  });
  fake.server.listen(0, '127.0.0.1');
  await once(fake.server, 'listening');
  fake.url = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}`;
  return fake;
}

const env = savedEnv(['AWS_ENDPOINT_URL_IAM', ...AWS_ENV]);
let fake: FakeIam;

/** Zero backoff in place of standard mode's jittered throttle backoff (up to seconds). */
const instantRetries = (maxAttempts: number) => new ConfiguredRetryStrategy(maxAttempts, 0);

beforeAll(async () => {
  fake = await startFakeIam();
  // The SDK reads these itself: that it does is part of what this file checks.
  process.env.AWS_ENDPOINT_URL_IAM = fake.url;
  process.env.AWS_ACCESS_KEY_ID = 'AKIATESTTESTTESTTEST';
  process.env.AWS_SECRET_ACCESS_KEY = 'test-secret-not-real';
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_REGION;
});

beforeEach(() => {
  fake.requests.length = 0;
  delete process.env.KEYTURN_AWS_MAX_ATTEMPTS;
});

afterAll(async () => {
  fake.server.close();
  await once(fake.server, 'close');
  env.restore();
});

it('retries IAM Throttling and succeeds on the third request', async () => {
  fake.answer = (n) => (n <= 2 ? { status: 400, body: throttled } : { status: 200, body: attached });
  const { iam } = buildAwsClients({ region: 'us-east-1', retryStrategy: instantRetries });
  const accessControl = createIamAccessControl(iam, { accountId: ACCOUNT });

  await expect(accessControl.attachPolicy(alice, POLICY_ARN)).resolves.toBeUndefined();

  expect(fake.requests).toHaveLength(3);
  for (const body of fake.requests) {
    expect(Object.fromEntries(body)).toEqual({
      Action: 'AttachUserPolicy',
      Version: '2010-05-08',
      UserName: 'alice',
      PolicyArn: POLICY_ARN,
    });
  }
});

it('gives up after KEYTURN_AWS_MAX_ATTEMPTS with AccessControlError code Throttling', async () => {
  process.env.KEYTURN_AWS_MAX_ATTEMPTS = '4';
  fake.answer = () => ({ status: 400, body: throttled });
  const { iam } = buildAwsClients({ region: 'us-east-1', retryStrategy: instantRetries });
  const accessControl = createIamAccessControl(iam, { accountId: ACCOUNT });

  const error = await accessControl.attachPolicy(alice, POLICY_ARN).catch((e: unknown) => e);

  expect(error).toBeInstanceOf(AccessControlError);
  expect(error).toMatchObject({
    code: 'Throttling',
    message: 'IAM AttachUserPolicy failed with Throttling: Rate exceeded',
  });
  expect(fake.requests).toHaveLength(4);
  // Nothing secret travels into the error a caller may log or post.
  expect((error as Error).message).not.toContain('test-secret-not-real');
});

it('retries Throttling with the production settings too (standard mode, no test strategy)', async () => {
  fake.answer = (n) => (n === 1 ? { status: 400, body: throttled } : { status: 200, body: attached });
  const { iam } = buildAwsClients({ region: 'us-east-1' });

  await expect(iam.config.retryStrategy()).resolves.toMatchObject({ mode: 'standard' });
  await expect(iam.config.maxAttempts()).resolves.toBe(8);
  await createIamAccessControl(iam, { accountId: ACCOUNT }).attachPolicy(alice, POLICY_ARN);

  expect(fake.requests).toHaveLength(2);
});

it("translates a modelled IAM error parsed off the wire (NoSuchEntity on detach is 'already-gone')", async () => {
  fake.answer = () => ({
    status: 404,
    body: `<ErrorResponse xmlns="${XMLNS}"><Error><Type>Sender</Type><Code>NoSuchEntity</Code>
      <Message>Policy ${POLICY_ARN} was not found.</Message></Error><RequestId>r</RequestId></ErrorResponse>`,
  });
  const { iam } = buildAwsClients({ region: 'us-east-1', retryStrategy: instantRetries });

  await expect(
    createIamAccessControl(iam, { accountId: ACCOUNT }).detachPolicy(alice, POLICY_ARN),
  ).resolves.toBe('already-gone');
  // A client error is not retried.
  expect(fake.requests).toHaveLength(1);
});

it('gives up on an attempt IAM never answers and retries it, so a hung connection cannot hold the call', async () => {
  // The request arrives and no answer ever leaves: the fake records it and keeps the response open.
  const hung: ServerResponse[] = [];
  const usualAnswer = fake.server.listeners('request')[0] as (...a: unknown[]) => void;
  fake.server.removeAllListeners('request');
  fake.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    req.on('end', () => {
      fake.requests.push(new URLSearchParams());
      hung.push(res);
    });
  });
  try {
    process.env.KEYTURN_AWS_MAX_ATTEMPTS = '2';
    const { iam } = buildAwsClients({
      region: 'us-east-1',
      retryStrategy: instantRetries,
      limits: { connectionTimeoutMs: 200, requestTimeoutMs: 200 },
    });
    const started = Date.now();
    const error = await createIamAccessControl(iam, { accountId: ACCOUNT })
      .attachPolicy(alice, POLICY_ARN)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AccessControlError);
    expect(error).toMatchObject({ code: 'TimeoutError' });
    expect(fake.requests).toHaveLength(2);
    expect(Date.now() - started).toBeLessThan(5_000);
  } finally {
    for (const res of hung) res.destroy();
    fake.server.removeAllListeners('request');
    fake.server.on('request', usualAnswer);
  }
});

describe('client settings', () => {
  it('bounds every attempt: 3 s to connect, 10 s without an answer, and a timeout is an error', () => {
    const { iam, ssm } = buildAwsClients({ region: 'ap-northeast-1' });
    for (const client of [iam, ssm]) {
      expect(client.config.requestHandler).toBeInstanceOf(NodeHttpHandler);
    }
    expect(awsClientConfig({ region: 'ap-northeast-1' }).requestHandler).toEqual({
      connectionTimeout: 3_000,
      requestTimeout: 10_000,
      throwOnRequestTimeout: true,
    });
  });

  it('uses the configured region unless AWS_REGION is set, which wins', async () => {
    const configured = buildAwsClients({ region: 'ap-northeast-1' });
    await expect(configured.ssm.config.region()).resolves.toBe('ap-northeast-1');

    process.env.AWS_REGION = 'eu-west-1';
    try {
      const fromEnv = buildAwsClients({ region: 'ap-northeast-1' });
      await expect(fromEnv.ssm.config.region()).resolves.toBe('eu-west-1');
      await expect(fromEnv.iam.config.region()).resolves.toBe('eu-west-1');
    } finally {
      delete process.env.AWS_REGION;
    }
  });

  it('refuses a KEYTURN_AWS_MAX_ATTEMPTS that is not a whole number, naming the variable', () => {
    process.env.KEYTURN_AWS_MAX_ATTEMPTS = 'lots';

    expect(() => buildAwsClients({ region: 'us-east-1' })).toThrow(
      "KEYTURN_AWS_MAX_ATTEMPTS: 'lots' is not a whole number of attempts from 1 to 50",
    );
  });
});
