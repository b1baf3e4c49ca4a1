import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import {
  createSignedDocumentClient,
  PutCommand,
  QueryCommand,
  ScanCommand,
} from '../../../src/adapters/aws/signed-dynamodb';
import { createJsonCall, type HttpPost, signV4 } from '../../../src/adapters/aws/signed-json';
import { createSignedSqsWorkQueue } from '../../../src/adapters/aws/signed-sqs';
import { fakePost, SIGNED_ENV as ENV } from '../../support/signed-posts';

// The slack function's AWS transport: SigV4 as the SDK signs, retries as the SDK's standard mode,
// errors named as the SDK names them, DynamoDB marshalling as lib-dynamodb's, SQS's MD5 check.

const noSleep = { sleep: async () => undefined };

type SourceData = string | ArrayBuffer | ArrayBufferView;
const bytes = (d: SourceData) =>
  typeof d === 'string'
    ? d
    : ArrayBuffer.isView(d)
      ? new Uint8Array(d.buffer, d.byteOffset, d.byteLength)
      : new Uint8Array(d);

/** The SDK's own signer (@smithy/signature-v4) on node:crypto, for the same request at the same time. */
class Sha256 {
  private readonly hash: Hash | Hmac;
  constructor(secret?: SourceData) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: SourceData) {
    this.hash.update(bytes(data));
  }
  async digest() {
    return new Uint8Array(this.hash.digest());
  }
}

describe('signV4', () => {
  it.each([
    [
      'dynamodb',
      'https://dynamodb.ap-northeast-1.amazonaws.com/',
      'DynamoDB_20120810.PutItem',
      'session-token',
    ],
    ['sqs', 'https://sqs.ap-northeast-1.amazonaws.com/', 'AmazonSQS.SendMessage', undefined],
    ['ssm', 'http://127.0.0.1:4566/', 'AmazonSSM.GetParameters', 'session-token'],
  ])('signs a %s request exactly as the SDK signer does', async (service, endpoint, target, sessionToken) => {
    const url = new URL(endpoint);
    const body = JSON.stringify({ TableName: 't', Item: { pk: { S: 'a b/c' } }, é: 'ü' });
    const date = new Date('2026-12-05T02:30:15.123Z');
    const credentials = {
      accessKeyId: ENV.AWS_ACCESS_KEY_ID,
      secretAccessKey: ENV.AWS_SECRET_ACCESS_KEY,
      ...(sessionToken ? { sessionToken } : {}),
    };
    const headers = { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': target };
    const ours = signV4({ service, region: 'ap-northeast-1', url, headers, body, credentials, date });
    const sdk = await new SignatureV4({
      service,
      region: 'ap-northeast-1',
      credentials,
      sha256: Sha256,
    }).sign(
      {
        method: 'POST',
        protocol: url.protocol,
        hostname: url.hostname,
        ...(url.port ? { port: Number(url.port) } : {}),
        path: url.pathname,
        query: {},
        headers: { ...headers, host: url.host },
        body,
      },
      { signingDate: date },
    );
    expect(ours.authorization).toBe(sdk.headers.authorization);
    expect(ours['x-amz-date']).toBe(sdk.headers['x-amz-date']);
    expect(ours['x-amz-security-token']).toBe(sessionToken);
  });
});

describe('createJsonCall', () => {
  const call = (post: HttpPost, extra: Partial<Parameters<typeof createJsonCall>[0]> = {}) =>
    createJsonCall({
      service: 'dynamodb',
      targetPrefix: 'DynamoDB_20120810',
      jsonVersion: '1.0',
      env: ENV,
      region: 'us-east-1',
      post,
      ...noSleep,
      ...extra,
    });

  it("retries throttling with the SDK's throttling backoff, 5xx and dropped connections, up to 3 attempts", async () => {
    const { post, sent } = fakePost([
      {
        status: 400,
        body: { __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException' },
      },
      { status: 503, body: {} },
      { status: 200, body: { Item: { pk: { S: 'a' } } } },
    ]);
    const slept: number[] = [];
    const send = call(post, { sleep: async (ms) => void slept.push(ms), random: () => 1 });
    await expect(send('GetItem', {})).resolves.toEqual({ Item: { pk: { S: 'a' } } });
    expect(sent).toHaveLength(3);
    // Full jitter at its top: 500 ms × 2^0 after throttling, 100 ms × 2^1 after a 503.
    expect(slept).toEqual([500, 200]);

    const dropped = fakePost([]);
    await expect(call(dropped.post)('GetItem', {})).rejects.toMatchObject({
      name: 'NetworkError',
      $metadata: { attempts: 3 },
    });
    expect(dropped.sent).toHaveLength(3);
  });

  it('does not retry a client error, and keeps its name, status and fields (a failed condition’s Item)', async () => {
    const { post, sent } = fakePost([
      {
        status: 400,
        body: {
          __type: 'com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException',
          message: 'The conditional request failed',
          Item: { pk: { S: 'a' } },
        },
      },
    ]);
    const error = await call(post)('PutItem', {}).catch((e: unknown) => e);
    expect(sent).toHaveLength(1);
    expect(error).toMatchObject({
      name: 'ConditionalCheckFailedException',
      message: 'The conditional request failed',
      $fault: 'client',
      $metadata: { httpStatusCode: 400, attempts: 1 },
      Item: { pk: { S: 'a' } },
    });
  });

  it('fails on a success whose body it cannot read, rather than taking it for an empty answer', async () => {
    const post: HttpPost = async () => ({ status: 200, text: '{"Item": {"pk": {"S"' });
    await expect(call(post)('GetItem', {})).rejects.toMatchObject({ name: 'DeserializationError' });
  });

  it('takes the error name from x-amzn-errortype first, as the SDK does', async () => {
    const { post } = fakePost([
      {
        status: 400,
        body: { __type: 'Other' },
        headers: { 'x-amzn-errortype': 'AccessDeniedException:http://x' },
      },
    ]);
    await expect(call(post)('GetItem', {})).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });

  it('sends to AWS_ENDPOINT_URL_<SERVICE>, then AWS_ENDPOINT_URL, then the regional endpoint', async () => {
    const urls: string[] = [];
    for (const env of [
      { ...ENV, AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:8000', AWS_ENDPOINT_URL: 'http://127.0.0.1:9' },
      { ...ENV, AWS_ENDPOINT_URL: 'http://127.0.0.1:9' },
      ENV,
    ]) {
      const { post, sent } = fakePost([{ status: 200, body: {} }]);
      await call(post, { env })('GetItem', {});
      urls.push(sent[0]?.url ?? '');
    }
    expect(urls).toEqual([
      'http://127.0.0.1:8000/',
      'http://127.0.0.1:9/',
      'https://dynamodb.ap-northeast-1.amazonaws.com/',
    ]);
  });
});

describe('createSignedDocumentClient', () => {
  it("marshals lib-dynamodb's way: the item, key and expression values in, the attributes and items out", async () => {
    const { post, sent } = fakePost([
      {
        status: 200,
        body: { Attributes: { n: { N: '2' }, m: { M: { l: { L: [{ S: 'x' }, { NULL: true }] } } } } },
      },
      {
        status: 200,
        body: {
          Items: [{ pk: { S: 'a' }, n: { N: '1' } }],
          LastEvaluatedKey: { pk: { S: 'a' }, sk: { S: 'b' } },
        },
      },
    ]);
    const client = createSignedDocumentClient({ env: ENV, region: 'us-east-1', post, ...noSleep });
    const put = await client.send(
      new PutCommand({
        TableName: 't',
        Item: { pk: 'a', n: 1, m: { l: ['x', null] }, gone: undefined, flag: true },
        ConditionExpression: 'attribute_not_exists(#pk)',
        ExpressionAttributeNames: { '#pk': 'pk' },
        ExpressionAttributeValues: { ':v': 3 },
        ReturnValues: 'ALL_OLD',
      }),
    );
    expect(JSON.parse(sent[0]?.body ?? '')).toEqual({
      TableName: 't',
      Item: {
        pk: { S: 'a' },
        n: { N: '1' },
        m: { M: { l: { L: [{ S: 'x' }, { NULL: true }] } } },
        flag: { BOOL: true },
      },
      ConditionExpression: 'attribute_not_exists(#pk)',
      ExpressionAttributeNames: { '#pk': 'pk' },
      ExpressionAttributeValues: { ':v': { N: '3' } },
      ReturnValues: 'ALL_OLD',
    });
    expect(sent[0]?.headers['x-amz-target']).toBe('DynamoDB_20120810.PutItem');
    expect(sent[0]?.headers['content-type']).toBe('application/x-amz-json-1.0');
    expect(put).toMatchObject({ Attributes: { n: 2, m: { l: ['x', null] } } });

    const query = await client.send(
      new QueryCommand({ TableName: 't', ExclusiveStartKey: { pk: 'a', sk: 'a' }, Limit: 1 }),
    );
    expect(JSON.parse(sent[1]?.body ?? '')).toEqual({
      TableName: 't',
      ExclusiveStartKey: { pk: { S: 'a' }, sk: { S: 'a' } },
      Limit: 1,
    });
    expect(query).toMatchObject({ Items: [{ pk: 'a', n: 1 }], LastEvaluatedKey: { pk: 'a', sk: 'b' } });
  });

  it('refuses, without sending, what the ack path never sends: scans, batches, transactions, legacy parameters', async () => {
    const { post, sent } = fakePost([]);
    const client = createSignedDocumentClient({ env: ENV, region: 'us-east-1', post, ...noSleep });
    await expect(client.send(new ScanCommand({ TableName: 't' }))).rejects.toThrow(/sends only/);
    await expect(
      client.send(new PutCommand({ TableName: 't', Item: { pk: 'a' }, Expected: { pk: { Exists: false } } })),
    ).rejects.toThrow(/Expected is not supported/);
    expect(sent).toEqual([]);
  });
});

describe('createSignedSqsWorkQueue', () => {
  const QUEUE = 'https://sqs.ap-northeast-1.amazonaws.com/123456789012/keyturn-prod-jobs';
  const md5 = (s: string) => createHash('md5').update(s).digest('hex');

  it('sends the job to the queue URL’s host, signed for sqs, and checks the MD5 SQS stored', async () => {
    const job = { kind: 'post-request-card', grantId: 'g1' } as const;
    const { post, sent } = fakePost([
      { status: 200, body: { MessageId: 'm1', MD5OfMessageBody: md5(JSON.stringify(job)) } },
    ]);
    await createSignedSqsWorkQueue({
      env: ENV,
      region: 'us-east-1',
      queueUrl: QUEUE,
      post,
      ...noSleep,
    }).enqueue(job);
    expect(sent[0]?.url).toBe('https://sqs.ap-northeast-1.amazonaws.com/');
    expect(sent[0]?.headers['x-amz-target']).toBe('AmazonSQS.SendMessage');
    expect(sent[0]?.headers.authorization).toMatch(/\/ap-northeast-1\/sqs\/aws4_request/);
    expect(JSON.parse(sent[0]?.body ?? '')).toEqual({ QueueUrl: QUEUE, MessageBody: JSON.stringify(job) });
  });

  it('fails the enqueue when the stored body’s MD5 is not the one sent', async () => {
    const { post } = fakePost([{ status: 200, body: { MessageId: 'm1', MD5OfMessageBody: md5('other') } }]);
    await expect(
      createSignedSqsWorkQueue({ env: ENV, region: 'us-east-1', queueUrl: QUEUE, post, ...noSleep }).enqueue({
        kind: 'apply-grant',
        grantId: 'g1',
      }),
    ).rejects.toMatchObject({ name: 'InvalidChecksumError' });
  });
});
