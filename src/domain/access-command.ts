import { looksLikeDuration } from './duration';

/** Longest reason we store and show; a card is not an essay, and Slack sections stop at 3,000 characters. */
export const MAX_REASON_CHARS = 500;

export type AccessCommand =
  | { kind: 'help' }
  | { kind: 'request'; target: string; durationText?: string; reason: string };

/**
 * Reads the text after `/access`: `<target> [duration] <reason…>`, or `help`.
 * A second word shaped like a number is taken as a duration (so `1x` is a bad duration, not a reason).
 */
export function parseAccessCommand(text: string): AccessCommand {
  const words = text.trim().split(/\s+/).filter(Boolean);
  const [first, second, ...rest] = words;
  if (first === undefined || first.toLowerCase() === 'help') return { kind: 'help' };
  if (second !== undefined && looksLikeDuration(second)) {
    return { kind: 'request', target: first, durationText: second, reason: rest.join(' ') };
  }
  return {
    kind: 'request',
    target: first,
    reason: [second, ...rest].filter((w) => w !== undefined).join(' '),
  };
}
