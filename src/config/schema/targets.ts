import { z } from 'zod';
import { ACCESS_SUBCOMMANDS } from '../../domain/access-command';
import {
  type DurationError,
  formatDuration,
  MAX_CONFIGURABLE_MINUTES,
  parseDuration,
} from '../../domain/duration';
import { DOCUMENT_KINDS, isUserGroupId } from '../../domain/target';
import {
  bool,
  isRecord,
  issue,
  named,
  noRepeats,
  SLACK_USER_GROUP_ID,
  SLACK_USER_ID,
  slackUserId,
  strictObject,
  text,
} from './common';
import { tagMap } from './tags';

/*
 * targets: the fleets a grant can reach (by tags), for how long, and who approves; with the cross-check
 * that every runner is a person Keyturn knows.
 */

// Typed in `/access <target>` and used in policy names, so short, lower-case and shell-safe.
export const TARGET_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
// useradd's default NAME_REGEX; SSMSessionRunAs must name an existing local user.
const LINUX_USER = /^[a-z_][a-z0-9_-]{0,31}$/;
// AWS allows 50 tags per resource; a target needing more could never match a node.
const MAX_TAGS = 50;

const targetTags = tagMap().superRefine((tags, ctx) => {
  const count = Object.keys(tags).length;
  if (count === 0) issue(ctx, 'has no tags; a target needs at least one, or a grant would reach every node');
  if (count > MAX_TAGS) issue(ctx, `has ${count} tags; AWS allows at most ${MAX_TAGS} on a node`);
});

// ---------------------------------------------------------------------------------------------------------
// Durations

const DURATION_RULE = 'is not a duration like 30m, 1h, 2h30m or 90m';
const TOO_LONG_RULE = `is longer than ${formatDuration(MAX_CONFIGURABLE_MINUTES)}, the longest grant a target may allow`;

function durationRule(e: DurationError): string {
  switch (e.reason) {
    case 'empty':
      return `is empty; ${DURATION_RULE.replace('is not ', 'give ')}`;
    case 'malformed':
      return DURATION_RULE;
    case 'zero':
      return 'is zero; a duration must be at least 1m';
    case 'too-long':
      return TOO_LONG_RULE;
  }
}

/** A duration string in config, parsed to whole minutes. */
const duration = () =>
  z
    .string({ error: DURATION_RULE })
    .transform((input, ctx) => {
      const parsed = parseDuration(input);
      if (parsed.ok) return parsed.value;
      issue(ctx, durationRule(parsed.error));
      return z.NEVER;
    })
    .refine((minutes) => minutes <= MAX_CONFIGURABLE_MINUTES, {
      error: TOO_LONG_RULE,
    });

// ---------------------------------------------------------------------------------------------------------
// One target

const approver = text().refine((id) => SLACK_USER_ID.test(id) || SLACK_USER_GROUP_ID.test(id), {
  error: 'is not a Slack user id (U…/W…) or user group id (S…)',
});

const target = strictObject(
  {
    description: text().default(''),
    // Where its nodes are: an account id or alias declared under aws (default: Keyturn's own account) and
    // one of that account's regions (default: Keyturn's own region, or the account's only one).
    account: text().optional(),
    region: text().optional(),
    tags: targetTags,
    defaultDuration: duration(),
    maxDuration: duration(),
    approvers: z
      .array(approver, { error: 'is not a list of Slack user or user group ids' })
      .min(1, { error: 'is empty; list at least one approver' })
      .superRefine(noRepeats('approvers')),
    approvals: z
      .number({ error: 'is not a whole number' })
      .int({ error: 'is not a whole number' })
      .min(1, { error: 'is less than 1; at least one approval is needed' })
      .default(1),
    selfApproval: bool().default(false),
    documents: z
      .array(
        z.enum(DOCUMENT_KINDS, { error: `is not a session document kind (${DOCUMENT_KINDS.join(', ')})` }),
        {
          error: `is not a list of session document kinds (${DOCUMENT_KINDS.join(', ')})`,
        },
      )
      .min(1, { error: `is empty; list at least one of ${DOCUMENT_KINDS.join(', ')}` })
      .superRefine(noRepeats('documents'))
      .default(['shell']),
    runAs: text().regex(LINUX_USER, { error: 'is not a Linux user name like pi-ops' }).optional(),
    // Defaults in minutes: zod applies a default to the parsed value, after the duration transform.
    warnBefore: duration().default(10),
    approvalTimeout: duration().default(60),
    maxTotal: duration().optional(),
    // Run Command: these users may /run the target's snippets without an active grant (each must be under people).
    runners: z
      .array(slackUserId, { error: 'is not a list of Slack user ids' })
      .superRefine(noRepeats('runners'))
      .default([]),
  },
  'a mapping of target settings',
).superRefine((t, ctx) => {
  // Field issues do not stop this check, so a field that failed may hold no value: compare only real ones.
  const { defaultDuration, maxDuration } = t as { defaultDuration: unknown; maxDuration: unknown };
  if (typeof defaultDuration === 'number' && typeof maxDuration === 'number' && defaultDuration > maxDuration)
    issue(ctx, `is longer than maxDuration (${formatDuration(maxDuration)})`, ['defaultDuration']);
  const { maxTotal } = t as { maxTotal: unknown };
  // A maxDuration over the ceiling is already reported; comparing against it would only add noise.
  if (
    typeof maxTotal === 'number' &&
    typeof maxDuration === 'number' &&
    maxDuration <= MAX_CONFIGURABLE_MINUTES &&
    maxTotal < maxDuration
  )
    issue(
      ctx,
      `is shorter than maxDuration (${formatDuration(maxDuration)}); it bounds a grant with its extensions`,
      ['maxTotal'],
    );
  // With only users listed the ceiling is known; a user group's size is only known to Slack at decision time.
  // An empty list is already reported on approvers itself.
  const users = t.approvers.filter((id) => !isUserGroupId(id));
  if (users.length > 0 && users.length === t.approvers.length && t.approvals > users.length)
    issue(
      ctx,
      `is more than the ${users.length} approver${users.length === 1 ? '' : 's'} listed, so no request could ever be approved`,
      ['approvals'],
    );
});

export const targets = z.record(
  named(TARGET_NAME, 'is not a target name (lower case letters, digits and -, at most 63)').refine(
    (name) => !(ACCESS_SUBCOMMANDS as readonly string[]).includes(name),
    {
      error: `is an /access subcommand (${ACCESS_SUBCOMMANDS.join(', ')}); name the target something else`,
    },
  ),
  target,
  { error: 'is not a mapping of target name → settings' },
);

/** A runner acts as a person Keyturn knows: the same roster that maps Slack users to AWS identities. */
export function checkRunnersArePeople(
  targets: Record<string, unknown>,
  roster: unknown,
  ctx: z.core.$RefinementCtx<unknown>,
): void {
  const people = isRecord(roster) ? roster : {};
  for (const [name, t] of Object.entries(targets)) {
    const runners: unknown = isRecord(t) ? t.runners : undefined;
    if (!Array.isArray(runners)) continue;
    runners.forEach((id, i) => {
      // An id that is not a user id at all is already reported on the list itself.
      if (typeof id === 'string' && SLACK_USER_ID.test(id) && !Object.hasOwn(people, id))
        issue(ctx, 'is not mapped under people; map every runner to an IAM user or role', [
          'targets',
          name,
          'runners',
          i,
        ]);
    });
  }
}
