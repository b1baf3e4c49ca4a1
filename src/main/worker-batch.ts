import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { decodeJob } from '../adapters/aws/sqs-work-queue';
import type { Deps } from '../app/deps';
import { handleJob } from '../app/handle-job';
import { jobRetryDelaySeconds } from '../domain/job-retry';
import type { JobRetry } from '../ports/work-queue';

/**
 * One SQS batch for the worker, reporting partial batch failures so only the failed messages are
 * delivered again, each after a short delay for its receive count rather than the queue's
 * visibility timeout. After the queue's maxReceiveCount a message goes to the dead-letter queue.
 */
export async function runJobBatch(deps: Deps, event: SQSEvent, retry: JobRetry): Promise<SQSBatchResponse> {
  const failures: SQSBatchResponse['batchItemFailures'] = [];
  for (const record of event.Records) {
    const job = decodeJob(record.body);
    if (!job) {
      // Failing it sends it to the DLQ after maxReceiveCount, where it can be inspected.
      deps.logger.error({ messageId: record.messageId }, 'unreadable job message');
    } else {
      try {
        await handleJob(deps, job);
        continue;
      } catch (error) {
        deps.logger.error({ messageId: record.messageId, job, err: (error as Error).message }, 'job failed');
      }
    }
    await retrySoon(deps, retry, record);
    failures.push({ itemIdentifier: record.messageId });
  }
  return { batchItemFailures: failures };
}

async function retrySoon(deps: Deps, retry: JobRetry, record: SQSRecord): Promise<void> {
  const seconds = jobRetryDelaySeconds(Number(record.attributes?.ApproximateReceiveCount));
  try {
    await retry.retryIn(record.receiptHandle, seconds);
  } catch (error) {
    // Still reported failed below: SQS keeps the message and delivers it after the visibility timeout.
    deps.logger.warn(
      { messageId: record.messageId, seconds, err: (error as Error).message },
      'could not shorten the retry delay of a failed job',
    );
  }
}
