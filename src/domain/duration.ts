import { err, ok, type Result } from './result';

/** Longest grant any target may configure: a session grant is a break-glass tool, not standing access. */
export const MAX_CONFIGURABLE_MINUTES = 12 * 60;

export type DurationError =
  | { reason: 'empty' }
  | { reason: 'malformed'; input: string }
  | { reason: 'zero'; input: string }
  | { reason: 'too-long'; input: string; minutes: number };

const DURATION = /^(?:(\d{1,4})h)?(?:(\d{1,5})m)?$/;

/**
 * Parses `30m`, `1h`, `2h30m`, `90m` into whole minutes. Anything else — seconds, days, decimals,
 * spaces, signs, absurd sizes — is refused with a reason the caller can turn into a message.
 */
export function parseDuration(input: string): Result<number, DurationError> {
  const text = input.trim().toLowerCase();
  if (text === '') return err({ reason: 'empty' });
  const match = DURATION.exec(text);
  if (!match || (match[1] === undefined && match[2] === undefined))
    return err({ reason: 'malformed', input });
  const minutes = Number(match[1] ?? 0) * 60 + Number(match[2] ?? 0);
  if (minutes === 0) return err({ reason: 'zero', input });
  // A hard ceiling far above any target's maxDuration keeps arithmetic on dates safe.
  if (minutes > 7 * 24 * 60) return err({ reason: 'too-long', input, minutes });
  return ok(minutes);
}

/**
 * True when `text` is meant as a duration: it starts with a digit or a sign, which no reason's first
 * word needs. So `/access t -1h fix` or `/access t 1x fix` is answered as a bad duration, never read as
 * the reason with the default duration granted instead (issue 11).
 */
export function looksLikeDuration(text: string): boolean {
  // Unicode minus and dashes too: some keyboards and pastes turn `-` into them.
  return /^[-+\u2212\u2013\u2014\d]/.test(text.trim());
}

export function formatDuration(minutes: number): string {
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  if (h === 0) return `${m}m`;
  return m === 0 ? `${h}h` : `${h}h${m}m`;
}

export function describeDurationError(e: DurationError): string {
  switch (e.reason) {
    case 'empty':
      return 'no duration given';
    case 'malformed':
      return `'${e.input}' is not a duration like 30m, 1h, 2h30m or 90m`;
    case 'zero':
      return `'${e.input}' is zero; ask for at least 1m`;
    case 'too-long':
      return `'${e.input}' is far too long`;
  }
}
