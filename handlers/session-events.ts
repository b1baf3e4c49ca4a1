import { placeholderHandler } from '../src/main/lambda';

/** Session Manager StartSession/TerminateSession/ResumeSession via CloudTrail → EventBridge. */
// Placeholder: wired by the session summaries issue; see README "Deploy".
export const handler = placeholderHandler('session-events');
