/**
 * How long a failed job waits before SQS delivers it again, by delivery: 5 s, 20 s, 1 min, 2 min,
 * 5 min, 10 min, then 15 min. Without it a failed message waits out the queue's visibility timeout
 * (1,800 s, six times the worker's timeout), so a throttled Slack post or IAM call would come back
 * half an hour later (FACTS.md "Lambda and SQS"). With the queue's maxReceiveCount of 8
 * (serverless.yml) a job that keeps failing is tried for about 35 minutes, then dead-lettered.
 */
export const JOB_RETRY_DELAYS_SECONDS = [5, 20, 60, 120, 300, 600, 900] as const;

/** `receiveCount` is SQS's ApproximateReceiveCount for this delivery (1 on the first). */
export function jobRetryDelaySeconds(receiveCount: number): number {
  const delivery = Number.isInteger(receiveCount) && receiveCount >= 1 ? receiveCount : 1;
  const last = JOB_RETRY_DELAYS_SECONDS.length - 1;
  return JOB_RETRY_DELAYS_SECONDS[Math.min(delivery - 1, last)]!;
}
