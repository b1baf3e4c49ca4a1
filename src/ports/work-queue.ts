/** Slow work handed from the Slack listeners (which must ack within 3 s) to the worker. */
export type Job =
  | { kind: 'post-request-card'; grantId: string }
  | { kind: 'apply-grant'; grantId: string }
  | { kind: 'grant-changed'; grantId: string; version: number };

export interface WorkQueue {
  enqueue(job: Job): Promise<void>;
}
