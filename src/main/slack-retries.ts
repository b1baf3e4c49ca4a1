/**
 * The Slack Web API client's default retries last about 30 minutes; a job that waits that long holds
 * the worker (and, on Lambda, its invocation). A few quick retries, then the job fails and the queue
 * (in-process, or SQS) retries it with its own backoff.
 */
export const SLACK_RETRIES = { retries: 2, factor: 2, minTimeout: 250, maxTimeout: 2_000 };
