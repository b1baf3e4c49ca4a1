import { placeholderHandler } from '../src/main/lambda';

/** The daily digest in the audit channel (EventBridge Scheduler, config's digest.at/timezone). */
// Placeholder: wired by the daily digest issue; see README "Deploy".
export const handler = placeholderHandler('digest');
