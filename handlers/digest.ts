import { digestHandler } from '../src/main/lambda';

/** The daily digest, scheduled at digest.at in digest.timezone (EventBridge Scheduler). */
export const handler = digestHandler();
