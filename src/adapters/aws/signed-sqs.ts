import { createHash } from 'node:crypto';
import type { WorkQueue } from '../../ports/work-queue';
import { AwsJsonError, createJsonCall, type SignedCallOptions, signed } from './signed-json';

/**
 * The slack function's work queue: SQS `SendMessage` as one signed JSON-protocol request
 * (src/adapters/aws/signed-json.ts) instead of the SDK's SQS client (BENCHMARKS.md, item 3). Sent to
 * the queue URL's own host, as the SDK's client does by default, and checked as the SDK checks it: the
 * MD5 of the body SQS stored must be the MD5 of the body sent. The worker keeps the SDK's client
 * (src/adapters/aws/sqs-work-queue.ts).
 */
export function createSignedSqsWorkQueue(opts: SignedCallOptions & { queueUrl: string }): WorkQueue {
  const call = createJsonCall({
    service: 'sqs',
    targetPrefix: 'AmazonSQS',
    jsonVersion: '1.0',
    ...signed(opts),
  });
  const endpoint = new URL(new URL(opts.queueUrl).origin);
  return {
    async enqueue(job) {
      const body = JSON.stringify(job);
      const answer = await call('SendMessage', { QueueUrl: opts.queueUrl, MessageBody: body }, endpoint);
      const md5 = createHash('md5').update(body, 'utf8').digest('hex');
      if (answer.MD5OfMessageBody !== md5)
        throw new AwsJsonError(
          'InvalidChecksumError',
          `SQS SendMessage: MD5 of the stored body (${String(answer.MD5OfMessageBody)}) is not the body's (${md5})`,
          {},
        );
    },
  };
}
