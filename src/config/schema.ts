import { closest, distance } from 'fastest-levenshtein';
import { z } from 'zod';
import {
  type DurationError,
  formatDuration,
  MAX_CONFIGURABLE_MINUTES,
  parseDuration,
} from '../domain/duration';
import { ACCESS_SUBCOMMANDS } from '../domain/access-command';
import { PARAM_NAME, PLACEHOLDER, placeholderPlacementProblems } from '../domain/snippet';
import { DOCUMENT_KINDS, isUserGroupId } from '../domain/target';

/*
 * The shape of keyturn.yml. Every message below is a *rule*: load.ts prefixes it with the offending
 * value (`'5x' is not a duration …`) and the dotted key path, so messages read as the end of a sentence.
 * Custom issues with `params.showValue === false` are printed without the value (it would only be noise).
 */

// Slack ids: users U…/W… (W = Enterprise Grid), user groups S…, channels C… (public) / G… (private, legacy).
const SLACK_USER_ID = /^[UW][A-Z0-9]{2,}$/;
const SLACK_USER_GROUP_ID = /^S[A-Z0-9]{2,}$/;
const SLACK_CHANNEL_ID = /^[CG][A-Z0-9]{2,}$/;
const AWS_ACCOUNT_ID = /^\d{12}$/;
// us-east-1, eu-central-2, us-gov-west-1, ap-southeast-5 … (same shape the policy validator accepts)
const AWS_REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateUser.html (and CreateRole): 1–64 of [\w+=,.@-]
const IAM_NAME = /^[\w+=,.@-]{1,64}$/;
// Typed in `/access <target>` and used in policy names, so short, lower-case and shell-safe.
export const TARGET_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
const SNIPPET_NAME = TARGET_NAME;
// useradd's default NAME_REGEX; SSMSessionRunAs must name an existing local user.
const LINUX_USER = /^[a-z_][a-z0-9_-]{0,31}$/;
const CLOCK_TIME = /^([01]\d|2[0-3]):[0-5]\d$/;
const NODE_ID = /^(i-[0-9a-f]{8,17}|mi-[0-9a-f]{17})$/;
// SendCommand's own patterns: https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_SendCommand.html
const MAX_CONCURRENCY = /^([1-9][0-9]*|[1-9][0-9]%|[1-9]%|100%)$/;
const MAX_ERRORS = /^([1-9][0-9]*|0|[1-9][0-9]%|[0-9]%|100%)$/;
// SendCommand TimeoutSeconds starts at 30; AWS-RunShellScript's executionTimeout ends at 172800 (48h).
const MIN_TIMEOUT_SECONDS = 30;
const MAX_TIMEOUT_SECONDS = 172_800;
// SendCommand TimeoutSeconds (delivery): 30 s to 30 days.
const MAX_DELIVERY_TIMEOUT_SECONDS = 2_592_000;
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html (no dots: virtual-host TLS breaks on them)
const S3_BUCKET = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;
// https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html
const LOG_GROUP = /^[.\-_/#A-Za-z0-9]{1,512}$/;
// AWS allows 50 tags per resource; a target needing more could never match a node.
const MAX_TAGS = 50;
// SendCommand Targets: at most 5 entries; Keyturn sends one `tag:<key>` entry per tag.
const MAX_RUN_COMMAND_TAGS = 5;

/** Marks the message of an unknown-key issue; load.ts decodes the allowed keys to suggest the closest one. */
export const KNOWN_KEYS_MARK = '\u0000known-keys:';

/**
 * A strict object: a typo such as `maxDurration` is an error, never silently ignored. The allowed keys
 * travel in the message so the loader can say "did you mean 'maxDuration'?".
 */
function strictObject<T extends z.core.$ZodLooseShape>(shape: T, what: string) {
  const known = Object.keys(shape);
  return z.strictObject(shape, {
    error: (issue) =>
      issue.code === 'unrecognized_keys' ? `${KNOWN_KEYS_MARK}${known.join(',')}` : `is not ${what}`,
  });
}

const NOT_TEXT = 'is not text; quote it so YAML reads it as a string';
const text = () => z.string({ error: NOT_TEXT });
const bool = () => z.boolean({ error: 'is not true or false' });

/** One issue per problem, each relative to the value being refined. */
function issue(
  ctx: z.core.$RefinementCtx<unknown>,
  message: string,
  path: PropertyKey[] = [],
  showValue = true,
): void {
  ctx.addIssue({ code: 'custom', message, path, params: { showValue } });
}

/** Rejects repeats in a list: a repeated approver would count twice toward `approvals`. */
function noRepeats(what: string) {
  return (list: readonly unknown[], ctx: z.core.$RefinementCtx<readonly unknown[]>) => {
    list.forEach((item, i) => {
      if (list.indexOf(item) !== i) issue(ctx, `is listed twice in ${what}`, [i]);
    });
  };
}

// ---------------------------------------------------------------------------------------------------------
// Tags

/**
 * A tag becomes `StringEquals ssm:resourceTag/<key>: <value>` in the grant policy, the only thing that
 * narrows `instance/*` to one fleet. `*`/`?` are wildcards to StringLike and in ARNs, quotes and control
 * characters break out of JSON values and Slack text, `${` starts an IAM policy variable (expanded even in
 * StringEquals). The policy renderer re-checks the same characters (src/domain/policy.ts).
 */
function forbiddenInTag(s: string): string | undefined {
  const wildcard = /[*?]/.exec(s);
  if (wildcard) return `the wildcard '${wildcard[0]}'`;
  const quote = /["'`]/.exec(s);
  if (quote) return `the quote ${quote[0] === "'" ? `"'"` : `'${quote[0]}'`}`;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
  const control = /[\u0000-\u001f\u007f]/.exec(s);
  if (control)
    return `a control character (U+${control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')})`;
  if (s.includes('${')) return "'${', which IAM reads as a policy variable";
  return undefined;
}

function tagText(part: 'key' | 'value', maxLength: number) {
  return text().superRefine((s, ctx) => {
    if (s.length === 0) issue(ctx, `is empty; a tag ${part} must have at least one character`);
    if (s.length > maxLength)
      issue(ctx, `is ${s.length} characters long; a tag ${part} may have at most ${maxLength}`);
    const bad = forbiddenInTag(s);
    if (bad) issue(ctx, `contains ${bad}; tag ${part}s may not contain *, ?, quotes or control characters`);
    if (part === 'key' && /^aws:/i.test(s))
      issue(ctx, "starts with 'aws:', a prefix AWS reserves for its own tags");
  });
}

// https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html: keys ≤ 128, values ≤ 256 characters.
const tagMap = () =>
  z.record(tagText('key', 128), tagText('value', 256), { error: 'is not a mapping of tag key: value' });

const targetTags = tagMap().superRefine((tags, ctx) => {
  const count = Object.keys(tags).length;
  if (count === 0) issue(ctx, 'has no tags; a target needs at least one, or a grant would reach every node');
  if (count > MAX_TAGS) issue(ctx, `has ${count} tags; AWS allows at most ${MAX_TAGS} on a node`);
});

// ---------------------------------------------------------------------------------------------------------
// Durations

const DURATION_RULE = 'is not a duration like 30m, 1h, 2h30m or 90m';

function durationRule(e: DurationError): string {
  switch (e.reason) {
    case 'empty':
      return `is empty; ${DURATION_RULE.replace('is not ', 'give ')}`;
    case 'malformed':
      return DURATION_RULE;
    case 'zero':
      return 'is zero; a duration must be at least 1m';
    case 'too-long':
      return `is longer than ${formatDuration(MAX_CONFIGURABLE_MINUTES)}, the longest grant a target may allow`;
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
      error: `is longer than ${formatDuration(MAX_CONFIGURABLE_MINUTES)}, the longest grant a target may allow`,
    });

// ---------------------------------------------------------------------------------------------------------
// aws, slack, people

const aws = strictObject(
  {
    accountId: z
      .string({
        error: (i) =>
          typeof i.input === 'number'
            ? 'is a number; quote the account id ("123456789012") so YAML keeps any leading zeros'
            : 'is not a 12-digit AWS account id',
      })
      .regex(AWS_ACCOUNT_ID, { error: 'is not a 12-digit AWS account id' }),
    region: text().regex(AWS_REGION, { error: 'is not an AWS region like ap-northeast-1' }),
    // Derived from the region when left out (cn-* → aws-cn, us-gov-* → aws-us-gov).
    partition: z
      .enum(['aws', 'aws-cn', 'aws-us-gov'], { error: 'is not an AWS partition (aws, aws-cn or aws-us-gov)' })
      .optional(),
  },
  'a mapping with accountId, region and optionally partition',
);

const channelId = () =>
  text().regex(SLACK_CHANNEL_ID, {
    error: 'is not a Slack channel id (C… or G…; in Slack: channel details → copy channel ID)',
  });

const AUDIT_EVENTS = ['all', 'anomalies'] as const;

const slack = strictObject(
  {
    requestsChannel: channelId(),
    auditChannel: channelId(),
    auditEvents: z.enum(AUDIT_EVENTS, { error: `is not one of ${AUDIT_EVENTS.join(', ')}` }).default('all'),
  },
  'a mapping with requestsChannel and auditChannel',
);

const SLACK_USER_RULE = 'is not a Slack user id (U… or W…; in Slack: profile → ⋮ → copy member ID)';
const slackUserId = text().regex(SLACK_USER_ID, { error: SLACK_USER_RULE });

// An IAM user or role name, optionally behind its path: `alice`, `engineering/erin` (CreateUser,
// CreateRole: path segments of [\x21-\x7E] without /; the name itself is IAM_NAME).
const IAM_NAME_WITH_PATH = new RegExp(`^([!-.0-~]+/)*${IAM_NAME.source.slice(1, -1)}$`);
const IAM_USER_WITH_PATH = IAM_NAME_WITH_PATH;
// sts:AssumeRole RoleSessionName: 2–64 of [\w+=,.@-] (AssumeRole API reference).
const ROLE_SESSION_NAME = /^[\w+=,.@-]{2,64}$/;
const sessionName = (what: string) =>
  text().regex(ROLE_SESSION_NAME, {
    error: `is not usable as ${what} (a role session name: 2–64 letters, digits and +=,.@_-)`,
  });

const person = strictObject(
  {
    iamUser: text()
      .regex(IAM_USER_WITH_PATH, {
        error:
          'is not an IAM user name (1–64 letters, digits and +=,.@_-), optionally after its path (engineering/erin)',
      })
      .optional(),
    identityCenter: sessionName('an Identity Center user name').optional(),
    iamRole: text()
      .regex(IAM_NAME_WITH_PATH, {
        error:
          'is not an IAM role name (1–64 letters, digits and +=,.@_-), optionally after its path (service/oncall)',
      })
      .optional(),
    sessionName: sessionName('a session name').optional(),
    attach: z
      .enum(['direct'], { error: "is not 'direct' (leave attach out to use a Keyturn access role)" })
      .optional(),
  },
  'a mapping with iamUser, identityCenter or iamRole',
).superRefine((p, ctx) => {
  // One Slack user, one AWS identity: exactly one person may assume the access role.
  const set = (['iamUser', 'identityCenter', 'iamRole'] as const).filter((k) => p[k] !== undefined);
  if (set.length > 1)
    issue(
      ctx,
      `sets ${set.join(' and ')}; map each Slack user to exactly one of iamUser, identityCenter, iamRole`,
      [],
      false,
    );
  if (set.length === 0)
    issue(
      ctx,
      'sets none of iamUser, identityCenter, iamRole; map each Slack user to exactly one of them',
      [],
      false,
    );
  if (p.sessionName !== undefined && p.iamRole === undefined)
    issue(
      ctx,
      'sets sessionName without iamRole; sessionName picks one person out of a shared role',
      ['sessionName'],
      false,
    );
  // IAM Identity Center permission-set roles are protected: attach, detach and tag fail with UnmodifiableEntity
  // (FACTS.md, Session Manager), and their ARNs carry a path a plain role name cannot express.
  if (p.iamRole?.split('/').at(-1)?.startsWith('AWSReservedSSO_'))
    issue(
      ctx,
      'is an IAM Identity Center permission-set role, which IAM will not let Keyturn attach to or trust by name; map the person with { identityCenter: <their Identity Center user name> }',
      ['iamRole'],
    );
  if (p.attach === 'direct') {
    if (p.identityCenter !== undefined)
      issue(
        ctx,
        "is 'direct' for an Identity Center user: their AWSReservedSSO_* roles refuse attach and tag (UnmodifiableEntity); leave attach out",
        ['attach'],
        false,
      );
    if (p.sessionName !== undefined)
      issue(
        ctx,
        "is 'direct' for a shared role (sessionName): a policy attached to the role reaches everyone who assumes it; leave attach out",
        ['attach'],
        false,
      );
  }
});

// ---------------------------------------------------------------------------------------------------------
// targets

const approver = text().refine((id) => SLACK_USER_ID.test(id) || SLACK_USER_GROUP_ID.test(id), {
  error: 'is not a Slack user id (U…/W…) or user group id (S…)',
});

const target = strictObject(
  {
    description: text().default(''),
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

// ---------------------------------------------------------------------------------------------------------
// snippets

/** True when `pattern` can only match whole values: starts with ^, ends with an unescaped $, no top-level `|`. */
function anchoringProblem(pattern: string): string | undefined {
  if (!pattern.startsWith('^')) return 'does not start with ^; anchor it so the whole value must match';
  let escaped = false;
  let inClass = false;
  let depth = 0;
  let lastIsEscaped = false;
  for (const ch of pattern) {
    lastIsEscaped = escaped;
    if (escaped) escaped = false;
    else if (ch === '\\') escaped = true;
    else if (inClass) inClass = ch !== ']';
    else if (ch === '[') inClass = true;
    else if (ch === '(') depth++;
    else if (ch === ')') depth--;
    // `^a|b$` is "^a" or "b$": either alternative would let text around the value through to the shell.
    else if (ch === '|' && depth === 0)
      return 'has a top-level |, which unanchors it; group the alternatives: ^(a|b)$';
  }
  if (!pattern.endsWith('$') || lastIsEscaped)
    return 'does not end with $; anchor it so the whole value must match';
  return undefined;
}

function compile(pattern: string): RegExp | undefined {
  try {
    return new RegExp(pattern);
  } catch {
    return undefined;
  }
}

const paramPattern = text().superRefine((pattern, ctx) => {
  // Parameters are spliced into a shell command; the pattern is the only thing standing between a Slack
  // message and the command line, so it must compile and match the whole value.
  if (compile(pattern) === undefined) {
    issue(ctx, 'is not a valid JavaScript regular expression');
    return;
  }
  const problem = anchoringProblem(pattern);
  if (problem) issue(ctx, problem);
});

const snippetParam = strictObject(
  { pattern: paramPattern, default: text().optional(), description: text().optional() },
  'a mapping with pattern (and optional default, description)',
).superRefine((p, ctx) => {
  const re = compile(p.pattern);
  if (p.default !== undefined && re && !re.test(p.default))
    issue(ctx, `does not match its own pattern ${p.pattern}`, ['default']);
});

/** SSM accepts both `10` and `10%`; YAML reads the first as a number, which is fine to take as text. */
const countOrPercent = (pattern: RegExp, rule: string) =>
  z.preprocess(
    (v) => (typeof v === 'number' ? String(v) : v),
    z.string({ error: rule }).regex(pattern, { error: rule }),
  );

const snippet = strictObject(
  {
    description: text().default(''),
    run: text().refine((s) => s.trim() !== '', { error: 'is empty; give the shell command to run' }),
    targets: z
      .array(text(), { error: 'is not a list of target names' })
      .min(1, { error: 'is empty; list the targets this snippet may run on' })
      .superRefine(noRepeats('targets')),
    params: z
      .record(
        text().regex(PARAM_NAME, { error: 'is not a parameter name (lower case letters, digits, _)' }),
        snippetParam,
        { error: 'is not a mapping of parameter name → { pattern, default }' },
      )
      .default({}),
    approval: bool().default(false),
    timeout: z
      .number({ error: 'is not a number of seconds' })
      .int({ error: 'is not a whole number of seconds' })
      .min(MIN_TIMEOUT_SECONDS, { error: `is under ${MIN_TIMEOUT_SECONDS} seconds, the least SSM accepts` })
      .max(MAX_TIMEOUT_SECONDS, {
        error: `is over ${MAX_TIMEOUT_SECONDS} seconds (48h), the most SSM accepts`,
      })
      .optional(),
    deliveryTimeout: z
      .number({ error: 'is not a number of seconds' })
      .int({ error: 'is not a whole number of seconds' })
      .min(MIN_TIMEOUT_SECONDS, { error: `is under ${MIN_TIMEOUT_SECONDS} seconds, the least SSM accepts` })
      .max(MAX_DELIVERY_TIMEOUT_SECONDS, {
        error: `is over ${MAX_DELIVERY_TIMEOUT_SECONDS} seconds (30 days), the most SSM accepts`,
      })
      .optional(),
    maxConcurrency: countOrPercent(
      MAX_CONCURRENCY,
      'is not a node count or percentage like 10 or 50%',
    ).optional(),
    maxErrors: countOrPercent(MAX_ERRORS, 'is not an error count or percentage like 0, 1 or 10%').optional(),
  },
  'a mapping of snippet settings',
).superRefine((s, ctx) => {
  const used = new Set<string>();
  for (const match of s.run.matchAll(PLACEHOLDER)) {
    const name = match[1] ?? '';
    if (!PARAM_NAME.test(name)) {
      issue(ctx, `contains ${match[0]}, which is not a placeholder like {{name}}`, ['run']);
      continue;
    }
    used.add(name);
    if (!Object.hasOwn(s.params, name))
      issue(ctx, `uses {{${name}}}, which params does not declare`, ['run']);
  }
  for (const name of Object.keys(s.params))
    if (!used.has(name)) issue(ctx, `is declared but run never uses {{${name}}}`, ['params', name], false);
  // Quoting only protects a value that stands as its own shell word (src/domain/snippet.ts).
  for (const problem of placeholderPlacementProblems(s.run)) issue(ctx, problem, ['run'], false);
});

// ---------------------------------------------------------------------------------------------------------
// digest, sandbox

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

const digest = strictObject(
  {
    at: text().regex(CLOCK_TIME, { error: 'is not a 24-hour time like 09:00' }).default('09:00'),
    timezone: text()
      .refine(isTimeZone, { error: 'is not an IANA time zone like UTC, Asia/Tokyo or Europe/Berlin' })
      .default('UTC'),
  },
  'a mapping with at and timezone',
);

const sandboxNode = strictObject(
  {
    id: text().regex(NODE_ID, { error: 'is not a node id like i-0123456789abcdef0 or mi-0123456789abcdef0' }),
    name: text().min(1, { error: 'is empty; give the node a name' }),
    tags: tagMap(),
    ping: z
      .enum(['Online', 'ConnectionLost', 'Inactive'], {
        error: 'is not one of Online, ConnectionLost, Inactive',
      })
      .default('Online'),
  },
  'a mapping with id, name, tags and ping',
);

const sandbox = strictObject(
  {
    fleet: z
      .array(sandboxNode, { error: 'is not a list of nodes' })
      .superRefine((nodes, ctx) => {
        const ids = nodes.map((n) => n.id);
        ids.forEach((id, i) => {
          if (ids.indexOf(id) !== i) issue(ctx, 'is used by another node in the fleet', [i, 'id']);
        });
      })
      .default([]),
    // Slack user groups are answered by the sandbox's own Slack, so their members are configured here.
    userGroups: z
      .record(
        text().regex(SLACK_USER_GROUP_ID, { error: 'is not a Slack user group id like S0SREGROUP' }),
        z.array(slackUserId, { error: 'is not a list of Slack user ids' }),
        { error: 'is not a mapping of user group id → member user ids' },
      )
      .default({}),
  },
  'a mapping with fleet and userGroups',
);

// ---------------------------------------------------------------------------------------------------------
// The whole file

const named = (pattern: RegExp, what: string) => text().regex(pattern, { error: what });

export const configSchema = strictObject(
  {
    aws,
    slack,
    people: z.record(slackUserId, person, {
      error: 'is not a mapping of Slack user id → { iamUser | identityCenter | iamRole }',
    }),
    targets: z.record(
      named(TARGET_NAME, 'is not a target name (lower case letters, digits and -, at most 63)').refine(
        (name) => !(ACCESS_SUBCOMMANDS as readonly string[]).includes(name),
        {
          error: `is an /access subcommand (${ACCESS_SUBCOMMANDS.join(', ')}); name the target something else`,
        },
      ),
      target,
      { error: 'is not a mapping of target name → settings' },
    ),
    snippets: z
      .record(
        named(SNIPPET_NAME, 'is not a snippet name (lower case letters, digits and -, at most 63)'),
        snippet,
        {
          error: 'is not a mapping of snippet name → settings',
        },
      )
      .default({}),
    digest: digest.prefault({}),
    commandOutput: strictObject(
      {
        s3Bucket: text()
          .regex(S3_BUCKET, { error: 'is not an S3 bucket name like keyturn-run-output' })
          .optional(),
        s3KeyPrefix: text()
          .max(500, { error: 'is longer than 500 characters, the most SSM accepts' })
          .optional(),
        cloudWatchLogGroup: text()
          .regex(LOG_GROUP, { error: 'is not a CloudWatch Logs group name like /keyturn/run-command' })
          .optional(),
      },
      'a mapping with s3Bucket, s3KeyPrefix and cloudWatchLogGroup',
    ).optional(),
    sandbox: sandbox.prefault({}),
  },
  'a YAML mapping with aws, slack, people and targets',
).superRefine(
  (config, ctx) => {
    // Runs even when other parts failed (see `when`), so a dangling reference is reported in the same pass;
    // hence the defensive reads: parts of `config` may be missing or half-parsed.
    const targets = isRecord(config?.targets) ? Object.keys(config.targets) : undefined;
    const snippets = isRecord(config?.snippets) ? config.snippets : {};
    checkPeopleAreDistinct(config?.people, ctx);
    checkPartition(config?.aws, ctx);
    if (targets === undefined) return;
    // A runner acts as a person Keyturn knows: the same roster that maps Slack users to AWS identities.
    const people = isRecord(config?.people) ? config.people : {};
    for (const [name, t] of Object.entries(config.targets)) {
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
    for (const [name, s] of Object.entries(snippets)) {
      const list: unknown = isRecord(s) ? s.targets : undefined;
      if (!Array.isArray(list)) continue;
      list.forEach((t, i) => {
        if (typeof t === 'string' && targets.includes(t)) {
          // SendCommand takes at most 5 Targets entries, one per tag (SendCommand API reference, Targets).
          const target: unknown = config.targets[t];
          const tags: unknown = isRecord(target) ? target.tags : undefined;
          const count = isRecord(tags) ? Object.keys(tags).length : 0;
          if (count > MAX_RUN_COMMAND_TAGS)
            issue(
              ctx,
              `names a target with ${count} tags; Run Command can select nodes by at most ${MAX_RUN_COMMAND_TAGS} tags`,
              ['snippets', name, 'targets', i],
            );
        }
        if (typeof t !== 'string' || targets.includes(t)) return;
        const near = targets.length > 0 ? closest(t, targets) : undefined;
        const hint = near !== undefined && distance(t, near) <= 2 ? `; did you mean '${near}'?` : '';
        issue(ctx, `is not a target defined under targets${hint}`, ['snippets', name, 'targets', i]);
      });
    }
  },
  { when: () => true },
);

/**
 * Each access role admits exactly one person: two Slack users resolving to the same AWS identity would
 * be indistinguishable to IAM and to Session Manager (one could use the other's grants).
 */
function checkPeopleAreDistinct(people: unknown, ctx: z.core.$RefinementCtx<unknown>): void {
  if (!isRecord(people)) return;
  const seen = new Map<string, string>();
  const roleUsers = new Map<string, string[]>();
  for (const [id, p] of Object.entries(people)) {
    if (!isRecord(p)) continue;
    let key: string | undefined;
    if (typeof p.iamUser === 'string') key = `IAM user ${p.iamUser.split('/').at(-1)}`;
    else if (typeof p.identityCenter === 'string') key = `Identity Center user ${p.identityCenter}`;
    else if (typeof p.iamRole === 'string') {
      // Role names are unique per account whatever their path.
      const role = (p.iamRole.split('/').at(-1) ?? '').toLowerCase();
      roleUsers.set(role, [...(roleUsers.get(role) ?? []), id]);
      key = typeof p.sessionName === 'string' ? `IAM role ${p.iamRole} as ${p.sessionName}` : undefined;
    }
    if (key === undefined) continue;
    const other = seen.get(key.toLowerCase());
    if (other !== undefined)
      issue(
        ctx,
        `is the same ${key} as ${other}; map each AWS identity to one Slack user`,
        ['people', id],
        false,
      );
    else seen.set(key.toLowerCase(), id);
  }
  for (const [role, ids] of roleUsers) {
    if (ids.length < 2) continue;
    for (const id of ids) {
      const p = people[id];
      if (isRecord(p) && p.sessionName === undefined)
        issue(
          ctx,
          `maps to IAM role ${role}, which ${ids.filter((o) => o !== id).join(', ')} also use; a shared role needs a sessionName per person ({ iamRole: ${role}, sessionName: <their session name> })`,
          ['people', id],
          false,
        );
    }
  }
}

function checkPartition(aws: unknown, ctx: z.core.$RefinementCtx<unknown>): void {
  if (!isRecord(aws) || typeof aws.partition !== 'string' || typeof aws.region !== 'string') return;
  const expected = aws.region.startsWith('cn-')
    ? 'aws-cn'
    : aws.region.startsWith('us-gov-')
      ? 'aws-us-gov'
      : 'aws';
  if (aws.partition !== expected)
    issue(
      ctx,
      `is not the partition of region ${aws.region} (${expected}); leave partition out to derive it`,
      ['aws', 'partition'],
    );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export type ConfigInput = z.input<typeof configSchema>;
export type ParsedConfig = z.output<typeof configSchema>;
