import { commandEventsHandler } from '../src/main/lambda';

/** Run Command per-node status changes (EventBridge "EC2 Command Invocation Status-change Notification"). */
export const handler = commandEventsHandler();
