import { placeholderHandler } from '../src/main/lambda';

/** Run Command per-node status changes (EventBridge). */
// Placeholder: wired by the Run Command issue; see README "Deploy".
export const handler = placeholderHandler('command-events');
