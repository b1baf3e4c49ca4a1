/** Slow work handed from the Slack listeners (which must ack within 3 s) to the worker. */
export type Job =
  | { kind: 'post-request-card'; grantId: string }
  | { kind: 'apply-grant'; grantId: string }
  /** `step` is the index of the history entry to announce; it keys the one-time DM for it. */
  | { kind: 'grant-changed'; grantId: string; step: number };

export interface WorkQueue {
  enqueue(job: Job): Promise<void>;
}
