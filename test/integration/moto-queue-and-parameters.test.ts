import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { createSqsJobRetry, createSqsWorkQueue, decodeJob } from '../../src/adapters/aws/sqs-work-queue';
import { createSignedSqsWorkQueue } from '../../src/adapters/aws/signed-sqs';
import { createSignedParametersReader } from '../../src/adapters/aws/ssm-parameters';
import { type Moto, startMoto } from '../support/moto';

/**
 * The two AWS calls issue 11 and 13 added outside IAM, against moto (an emulator written by others)
 * instead of our own fakes: the worker's ChangeMessageVisibility on a received job, and the slack
 * function's signed GetParameters (its own SigV4 request over node:http(s), not the SDK's client).
 */
const REGION = 'ap-northeast-1';
const CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' };

describe('SQS and SSM Parameter Store against moto', () => {
  let moto: Moto;
  beforeAll(async () => {
    moto = await startMoto();
  });
  afterAll(async () => {
    await moto.stop();
  });

  it('a failed job is made visible again after the retry delay: ChangeMessageVisibility on its receipt', async () => {
    const sqs = new SQSClient({ region: REGION, endpoint: moto.endpoint, credentials: CREDENTIALS });
    const { QueueUrl } = await sqs.send(
      new CreateQueueCommand({ QueueName: 'keyturn-jobs', Attributes: { VisibilityTimeout: '1800' } }),
    );
    const queueUrl = QueueUrl as string;
    await createSqsWorkQueue(sqs, queueUrl).enqueue({ kind: 'apply-grant', grantId: 'g1' });

    const first = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 0 }));
    expect(first.Messages).toHaveLength(1);
    const message = first.Messages?.[0];
    expect(decodeJob(message?.Body ?? '')).toEqual({ kind: 'apply-grant', grantId: 'g1' });
    // Held by the 1,800 s visibility timeout: nothing to receive.
    expect((await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl }))).Messages ?? []).toEqual([]);

    await createSqsJobRetry(sqs, queueUrl).retryIn(message?.ReceiptHandle as string, 1);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const again = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl }));
    expect(again.Messages?.map((m) => m.MessageId)).toEqual([message?.MessageId]);
    const attributes = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }),
    );
    expect(attributes.Attributes?.ApproximateNumberOfMessages).toBe('0');
    sqs.destroy();
  });

  it("the slack function's signed SendMessage enqueues a job the worker's SDK client receives, MD5 checked", async () => {
    const sqs = new SQSClient({ region: REGION, endpoint: moto.endpoint, credentials: CREDENTIALS });
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'keyturn-slack-jobs' }));
    const queue = createSignedSqsWorkQueue({
      env: { AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey },
      region: REGION,
      queueUrl: QueueUrl as string,
    });
    await queue.enqueue({ kind: 'post-request-card', grantId: 'g-é' });
    await queue.enqueue({ kind: 'grant-changed', grantId: 'g2', step: 3 });

    const received = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: QueueUrl as string,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
      }),
    );
    expect(
      (received.Messages ?? [])
        .map((m) => decodeJob(m.Body ?? ''))
        .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    ).toEqual([
      { kind: 'grant-changed', grantId: 'g2', step: 3 },
      { kind: 'post-request-card', grantId: 'g-é' },
    ]);
    sqs.destroy();
  });

  it('a receipt SQS does not know is a JobRetryError naming the code, not a crash', async () => {
    const sqs = new SQSClient({ region: REGION, endpoint: moto.endpoint, credentials: CREDENTIALS });
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'keyturn-jobs-2' }));
    await expect(
      createSqsJobRetry(sqs, QueueUrl as string).retryIn('not-a-receipt', 5),
    ).rejects.toMatchObject({
      name: 'JobRetryError',
    });
    sqs.destroy();
  });

  it('the signed GetParameters reader decrypts both SecureStrings in one call, and leaves out a missing one', async () => {
    const ssm = new SSMClient({ region: REGION, endpoint: moto.endpoint, credentials: CREDENTIALS });
    await ssm.send(
      new PutParameterCommand({
        Name: '/keyturn/prod/slack-signing-secret',
        Type: 'SecureString',
        Value: 'signing-secret-value',
      }),
    );
    await ssm.send(
      new PutParameterCommand({
        Name: '/keyturn/prod/slack-bot-token',
        Type: 'SecureString',
        Value: 'xoxb-value',
      }),
    );
    const read = createSignedParametersReader({
      env: {
        AWS_ENDPOINT_URL_SSM: moto.endpoint,
        AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
      },
      region: REGION,
    });

    const values = await read([
      '/keyturn/prod/slack-bot-token',
      '/keyturn/prod/slack-signing-secret',
      '/keyturn/prod/no-such-parameter',
    ]);
    expect([...values].sort()).toEqual([
      ['/keyturn/prod/slack-bot-token', 'xoxb-value'],
      ['/keyturn/prod/slack-signing-secret', 'signing-secret-value'],
    ]);
    ssm.destroy();
  });
});
