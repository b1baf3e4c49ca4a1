import { ChangeMessageVisibilityCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { createSqsJobRetry, createSqsWorkQueue, decodeJob } from '../../../src/adapters/aws/sqs-work-queue';
import { JobRetryError } from '../../../src/ports/work-queue';
import type { Job } from '../../../src/ports/work-queue';

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
    ['{"kind":"revoke-grant","grantId":"g1"}', { kind: 'revoke-grant', grantId: 'g1' }],
    ['{"kind":"post-extension-card","grantId":"g1"}', { kind: 'post-extension-card', grantId: 'g1' }],
    ['{"kind":"apply-extension","grantId":"g1"}', { kind: 'apply-extension', grantId: 'g1' }],
    ['{"kind":"start-run","runId":"r1"}', { kind: 'start-run', runId: 'r1' }],
    ['{"kind":"track-run","runId":"r1","grantId":"g1"}', { kind: 'track-run', runId: 'r1' }],
    ['{"kind":"publish-home","user":"U0ALICE"}', { kind: 'publish-home', user: 'U0ALICE' }],
  ])('decodes %s', (body, job) => {
    expect(decodeJob(body)).toEqual(job);
  });

  it('decodes every kind of job the worker handles (a new kind fails to compile here until listed)', () => {
    const every: { [K in Job['kind']]: Extract<Job, { kind: K }> } = {
      'post-request-card': { kind: 'post-request-card', grantId: 'g1' },
      'apply-grant': { kind: 'apply-grant', grantId: 'g1' },
      'grant-changed': { kind: 'grant-changed', grantId: 'g1', step: 0 },
      'revoke-grant': { kind: 'revoke-grant', grantId: 'g1' },
      'post-extension-card': { kind: 'post-extension-card', grantId: 'g1' },
      'apply-extension': { kind: 'apply-extension', grantId: 'g1' },
      'start-run': { kind: 'start-run', runId: 'r1' },
      'track-run': { kind: 'track-run', runId: 'r1' },
      'publish-home': { kind: 'publish-home', user: 'U0ALICE' },
    };
    for (const job of Object.values(every)) expect(decodeJob(JSON.stringify(job))).toEqual(job);
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
    '{"kind":"start-run"}',
    '{"kind":"start-run","runId":""}',
    '{"kind":"track-run","grantId":"g1"}',
    '{"kind":"track-run","runId":7}',
  ])('refuses %s', (body) => {
    expect(decodeJob(body)).toBeUndefined();
  });
});

describe('SQS job retry', () => {
  it('makes the failed message visible again after the given delay (ChangeMessageVisibility)', async () => {
    const sqs = mockClient(SQSClient);
    sqs.on(ChangeMessageVisibilityCommand).resolves({});
    await createSqsJobRetry(new SQSClient({}), 'https://sqs.example/q').retryIn('receipt-1', 60);
    expect(sqs).toHaveReceivedCommandTimes(ChangeMessageVisibilityCommand, 1);
    expect(sqs).toHaveReceivedCommandWith(ChangeMessageVisibilityCommand, {
      QueueUrl: 'https://sqs.example/q',
      ReceiptHandle: 'receipt-1',
      VisibilityTimeout: 60,
    });
    sqs.restore();
  });

  it('translates an SQS refusal into a JobRetryError that names the call and keeps the cause', async () => {
    const sqs = mockClient(SQSClient);
    const refusal = Object.assign(new Error('The receipt handle has expired.'), {
      name: 'ReceiptHandleIsInvalid',
    });
    sqs.on(ChangeMessageVisibilityCommand).rejects(refusal);
    const failure = createSqsJobRetry(new SQSClient({}), 'https://sqs.example/q').retryIn('receipt-1', 5);
    await expect(failure).rejects.toBeInstanceOf(JobRetryError);
    await expect(failure).rejects.toMatchObject({
      name: 'JobRetryError',
      code: 'ReceiptHandleIsInvalid',
      message: 'SQS ChangeMessageVisibility failed with ReceiptHandleIsInvalid',
      cause: refusal,
    });
    sqs.restore();
  });
});
