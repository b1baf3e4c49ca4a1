import { workerHandler } from '../src/main/lambda';

/** SQS → the worker: IAM grants, card updates and DMs, with partial batch failures reported. */
export const handler = workerHandler();
