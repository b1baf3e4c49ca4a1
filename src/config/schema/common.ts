import { z } from 'zod';

/*
 * The building blocks every section of keyturn.yml is written with. Every message is a *rule*: load.ts
 * prefixes it with the offending value (`'5x' is not a duration …`) and the dotted key path, so messages
 * read as the end of a sentence. Custom issues with `params.showValue === false` are printed without the
 * value (it would only be noise).
 */

// Slack ids: users U…/W… (W = Enterprise Grid), user groups S….
export const SLACK_USER_ID = /^[UW][A-Z0-9]{2,}$/;
export const SLACK_USER_GROUP_ID = /^S[A-Z0-9]{2,}$/;

/** Marks the message of an unknown-key issue; load.ts decodes the allowed keys to suggest the closest one. */
export const KNOWN_KEYS_MARK = '\u0000known-keys:';

/**
 * A strict object: a typo such as `maxDurration` is an error, never silently ignored. The allowed keys
 * travel in the message so the loader can say "did you mean 'maxDuration'?".
 */
export function strictObject<T extends z.core.$ZodLooseShape>(shape: T, what: string) {
  const known = Object.keys(shape);
  return z.strictObject(shape, {
    error: (issue) =>
      issue.code === 'unrecognized_keys' ? `${KNOWN_KEYS_MARK}${known.join(',')}` : `is not ${what}`,
  });
}

const NOT_TEXT = 'is not text; quote it so YAML reads it as a string';
export const text = () => z.string({ error: NOT_TEXT });
export const bool = () => z.boolean({ error: 'is not true or false' });

/** One issue per problem, each relative to the value being refined. */
export function issue(
  ctx: z.core.$RefinementCtx<unknown>,
  message: string,
  path: PropertyKey[] = [],
  showValue = true,
): void {
  ctx.addIssue({ code: 'custom', message, path, params: { showValue } });
}

/** Rejects repeats in a list: a repeated approver would count twice toward `approvals`. */
export function noRepeats(what: string) {
  return (list: readonly unknown[], ctx: z.core.$RefinementCtx<readonly unknown[]>) => {
    list.forEach((item, i) => {
      if (list.indexOf(item) !== i) issue(ctx, `is listed twice in ${what}`, [i]);
    });
  };
}

const SLACK_USER_RULE = 'is not a Slack user id (U… or W…; in Slack: profile → ⋮ → copy member ID)';
export const slackUserId = text().regex(SLACK_USER_ID, { error: SLACK_USER_RULE });

/** A map key (target or snippet name) that must match `pattern`. */
export const named = (pattern: RegExp, what: string) => text().regex(pattern, { error: what });

export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
