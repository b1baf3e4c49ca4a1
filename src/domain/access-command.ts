import { looksLikeDuration } from './duration';

/** Longest reason we store and show; a card is not an essay, and Slack sections stop at 3,000 characters. */
export const MAX_REASON_CHARS = 500;

/** First words that are commands, never target names (config validation refuses them as targets). */
export const ACCESS_SUBCOMMANDS = ['help', 'list', 'done', 'revoke', 'cancel', 'extend'] as const;

export type AccessCommand =
  | { kind: 'help' }
  | { kind: 'list' }
  | { kind: 'done'; grantId?: string }
  | { kind: 'revoke'; grantId?: string; reason: string }
  | { kind: 'cancel'; grantId?: string }
  | { kind: 'extend'; grantId?: string; durationText?: string }
  | { kind: 'request'; target: string; durationText?: string; reason: string };

/**
 * Reads the text after `/access`: a subcommand (`help`, `list`, `done [id]`, `revoke <id> [reason]`,
 * `cancel <id>`, `extend <id> [duration]`) or a request `<target> [duration] <reason…>`.
 * A second word starting with a digit or a sign is taken as a duration (so `1x` or `-1h` is a bad
 * duration, not a reason).
 */
export function parseAccessCommand(text: string): AccessCommand {
  const words = text.trim().split(/\s+/).filter(Boolean);
  const [first, second, ...rest] = words;
  if (first === undefined) return { kind: 'help' };
  const withId = (id: string | undefined) => (id === undefined ? {} : { grantId: id.toLowerCase() });
  switch (first.toLowerCase()) {
    case 'help':
      return { kind: 'help' };
    case 'list':
      return { kind: 'list' };
    case 'done':
      return { kind: 'done', ...withId(second) };
    case 'cancel':
      return { kind: 'cancel', ...withId(second) };
    case 'revoke':
      return { kind: 'revoke', ...withId(second), reason: rest.join(' ') };
    case 'extend':
      return {
        kind: 'extend',
        ...withId(second),
        ...(rest[0] === undefined ? {} : { durationText: rest[0] }),
      };
  }
  if (second !== undefined && looksLikeDuration(second)) {
    return { kind: 'request', target: first, durationText: second, reason: rest.join(' ') };
  }
  return {
    kind: 'request',
    target: first,
    reason: [second, ...rest].filter((w) => w !== undefined).join(' '),
  };
}
