import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { createSqsWorkQueue, decodeJob } from '../../../src/adapters/aws/sqs-work-queue';

describe('SQS work queue', () => {
  it('sends one message per job with the job as JSON', async () => {
    const sqs = mockClient(SQSClient);
    sqs.on(SendMessageCommand).resolves({ MessageId: 'm1' });
    await createSqsWorkQueue(new SQSClient({}), 'https://sqs.example/q').enqueue({
      kind: 'apply-grant',
      grantId: 'g1',
    });
    expect(sqs).toHaveReceivedCommandTimes(SendMessageCommand, 1);
    expect(sqs).toHaveReceivedCommandWith(SendMessageCommand, {
      QueueUrl: 'https://sqs.example/q',
      MessageBody: '{"kind":"apply-grant","grantId":"g1"}',
    });
    sqs.restore();
  });

  it.each([
    ['{"kind":"apply-grant","grantId":"g1"}', { kind: 'apply-grant', grantId: 'g1' }],
    ['{"kind":"post-request-card","grantId":"g1","extra":1}', { kind: 'post-request-card', grantId: 'g1' }],
    ['{"kind":"grant-changed","grantId":"g1","step":2}', { kind: 'grant-changed', grantId: 'g1', step: 2 }],
  ])('decodes %s', (body, job) => {
    expect(decodeJob(body)).toEqual(job);
  });

  it.each([
    'not json',
    'null',
    '"apply-grant"',
    '{"kind":"apply-grant"}',
    '{"kind":"apply-grant","grantId":""}',
    '{"kind":"rm -rf","grantId":"g1"}',
    '{"kind":"grant-changed","grantId":"g1"}',
    '{"kind":"grant-changed","grantId":"g1","step":-1}',
    '{"kind":"grant-changed","grantId":"g1","step":1.5}',
  ])('refuses %s', (body) => {
    expect(decodeJob(body)).toBeUndefined();
  });
});
