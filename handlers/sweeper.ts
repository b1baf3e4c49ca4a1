import { placeholderHandler } from '../src/main/lambda';

/** Expire and warn grants, reconcile sessions and orphan policies (schedule, every minute). */
// Placeholder: wired by the expiry sweeper issue; see README "Deploy".
export const handler = placeholderHandler('sweeper');
