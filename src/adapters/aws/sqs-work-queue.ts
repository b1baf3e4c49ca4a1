import { ChangeMessageVisibilityCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { type Job, type JobRetry, JobRetryError, type WorkQueue } from '../../ports/work-queue';

/** Lambda's work queue: one SQS message per job, read back by the worker handler. */
export function createSqsWorkQueue(sqs: SQSClient, queueUrl: string): WorkQueue {
  return {
    async enqueue(job) {
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(job) }));
    },
  };
}

/**
 * Shortens a failed message's invisibility: the worker reports it in batchItemFailures, and SQS
 * delivers it again after `seconds` (ChangeMessageVisibility counts from now, 0 to 12 hours).
 * Needs sqs:ChangeMessageVisibility on the queue (deploy/stack.ts).
 */
export function createSqsJobRetry(sqs: SQSClient, queueUrl: string): JobRetry {
  return {
    async retryIn(receiptHandle, seconds) {
      try {
        await sqs.send(
          new ChangeMessageVisibilityCommand({
            QueueUrl: queueUrl,
            ReceiptHandle: receiptHandle,
            VisibilityTimeout: seconds,
          }),
        );
      } catch (e) {
        const code = e instanceof Error ? e.name : 'Unknown';
        throw new JobRetryError(code, `SQS ChangeMessageVisibility failed with ${code}`, { cause: e });
      }
    },
  };
}

/** Reads a message body back into a job; anything else is refused, never guessed at. */
export function decodeJob(body: string): Job | undefined {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const job = value as Record<string, unknown>;
  if (job.kind === 'start-run' || job.kind === 'track-run')
    return typeof job.runId === 'string' && job.runId !== ''
      ? { kind: job.kind, runId: job.runId }
      : undefined;
  if (job.kind === 'publish-home')
    return typeof job.user === 'string' && job.user !== ''
      ? { kind: 'publish-home', user: job.user }
      : undefined;
  if (typeof job.grantId !== 'string' || job.grantId === '') return undefined;
  switch (job.kind) {
    case 'post-request-card':
    case 'apply-grant':
    case 'revoke-grant':
    case 'post-extension-card':
    case 'apply-extension':
      return { kind: job.kind, grantId: job.grantId };
    case 'grant-changed':
      return Number.isInteger(job.step) && (job.step as number) >= 0
        ? { kind: 'grant-changed', grantId: job.grantId, step: job.step as number }
        : undefined;
    default:
      return undefined;
  }
}
