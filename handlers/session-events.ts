import { sessionEventsHandler } from '../src/main/lambda';

/** Session Manager StartSession / ResumeSession / TerminateSession, from CloudTrail through EventBridge. */
export const handler = sessionEventsHandler();
