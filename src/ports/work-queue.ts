/** Slow work handed from the Slack listeners (which must ack within 3 s) and the sweeper to the worker. */
export type Job =
  | { kind: 'post-request-card'; grantId: string }
  | { kind: 'apply-grant'; grantId: string }
  /** `step` is the index of the history entry to announce; it keys the one-time DM for it. */
  | { kind: 'grant-changed'; grantId: string; step: number }
  | { kind: 'revoke-grant'; grantId: string }
  | { kind: 'post-extension-card'; grantId: string }
  | { kind: 'apply-extension'; grantId: string }
  /** Moves a command run on from wherever it stands: post its message and card, or send it (once). */
  | { kind: 'start-run'; runId: string }
  /** Polls SSM for a sent run's node results; hands over to a fresh job when its time budget runs out. */
  | { kind: 'track-run'; runId: string }
  /** Renders and publishes one person's App Home (it looks up nodes, so not on the ack path). */
  | { kind: 'publish-home'; user: string };

export interface WorkQueue {
  enqueue(job: Job): Promise<void>;
}

/**
 * Brings a delivered job message back after `seconds` instead of the queue's visibility timeout,
 * once the worker has given up on it for this delivery (src/domain/job-retry.ts says how long).
 */
export interface JobRetry {
  retryIn(receiptHandle: string, seconds: number): Promise<void>;
}

/** The queue refused to change when a message comes back; `code` is the queue's error name. */
export class JobRetryError extends Error {
  override readonly name = 'JobRetryError';
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
