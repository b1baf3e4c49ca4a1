import { z } from 'zod';
import { GRANTOR_ROLE_NAME } from '../../domain/place';
import { partitionOfRegion } from '../../domain/principal';
import { isRecord, issue, noRepeats, SLACK_USER_GROUP_ID, slackUserId, strictObject, text } from './common';
import { tagMap } from './tags';

/*
 * The top-level settings: the AWS account (with the cross-check of partition against region), the Slack
 * channels, the daily digest, where Run Command output also goes, and the sandbox's simulated fleet.
 */

// Slack channels: C… (public) / G… (private, legacy).
const SLACK_CHANNEL_ID = /^[CG][A-Z0-9]{2,}$/;
const AWS_ACCOUNT_ID = /^\d{12}$/;
// us-east-1, eu-central-2, us-gov-west-1, ap-southeast-5 … (same shape the policy validator accepts)
const AWS_REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;
const CLOCK_TIME = /^([01]\d|2[0-3]):[0-5]\d$/;
const NODE_ID = /^(i-[0-9a-f]{8,17}|mi-[0-9a-f]{17})$/;
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html (no dots: virtual-host TLS breaks on them)
const S3_BUCKET = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;
// https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html
const LOG_GROUP = /^[.\-_/#A-Za-z0-9]{1,512}$/;

// ---------------------------------------------------------------------------------------------------------
// aws, slack

const accountId = () =>
  z
    .string({
      error: (i) =>
        typeof i.input === 'number'
          ? 'is a number; quote the account id ("123456789012") so YAML keeps any leading zeros'
          : 'is not a 12-digit AWS account id',
    })
    .regex(AWS_ACCOUNT_ID, { error: 'is not a 12-digit AWS account id' });

const region = () => text().regex(AWS_REGION, { error: 'is not an AWS region like ap-northeast-1' });

/** An account's short name people see (`factory`); never 12 digits, so it cannot be mistaken for an id. */
export const ACCOUNT_ALIAS = /^(?!\d{12}$)[a-z0-9][a-z0-9-]{0,62}$/;
const alias = () =>
  text().regex(ACCOUNT_ALIAS, {
    error: 'is not an account alias (lower case letters, digits and -, at most 63, not 12 digits)',
  });

const regionList = () =>
  z
    .array(region(), { error: 'is not a list of AWS regions' })
    .min(1, { error: 'is empty; list the regions with targets in this account' })
    .superRefine(noRepeats('regions'));

// arn:<partition>:iam::<account>:role/<path/>name
const ROLE_ARN = /^arn:(aws|aws-cn|aws-us-gov):iam::(\d{12}):role\/([\w+=,.@/-]{1,512})$/;

const memberAccount = strictObject(
  {
    accountId: accountId(),
    alias: alias().optional(),
    regions: regionList(),
    // The role Keyturn assumes there; arn:<partition>:iam::<accountId>:role/keyturn-grantor when left out.
    grantorRole: text()
      .regex(ROLE_ARN, {
        error: 'is not an IAM role ARN like arn:aws:iam::444455556666:role/keyturn-grantor',
      })
      .optional(),
  },
  'a mapping with accountId, regions and optionally alias and grantorRole',
);

export const aws = strictObject(
  {
    accountId: accountId(),
    region: region(),
    // Derived from the region when left out (cn-* → aws-cn, us-gov-* → aws-us-gov).
    partition: z
      .enum(['aws', 'aws-cn', 'aws-us-gov'], { error: 'is not an AWS partition (aws, aws-cn or aws-us-gov)' })
      .optional(),
    alias: alias().optional(),
    // The home account's regions with targets; [region] when left out.
    regions: regionList().optional(),
    // Member accounts of the organisation, each reached through its grantor role (docs/deploy.md#an-organisation).
    accounts: z.array(memberAccount, { error: 'is not a list of member accounts' }).default([]),
  },
  'a mapping with accountId, region and optionally partition, alias, regions and accounts',
);

/**
 * A partition given by hand must be the one its region is in, and every served region must be in that
 * partition (an ARN names one partition; STS cannot reach across them). Account ids and aliases are unique,
 * and a member account's grantor role lives in that account.
 */
export function checkAccounts(aws: unknown, ctx: z.core.$RefinementCtx<unknown>): void {
  if (!isRecord(aws) || typeof aws.region !== 'string') return;
  const expected = partitionOfRegion(aws.region);
  if (typeof aws.partition === 'string' && aws.partition !== expected)
    issue(
      ctx,
      `is not the partition of region ${aws.region} (${expected}); leave partition out to derive it`,
      ['aws', 'partition'],
    );
  const partition = typeof aws.partition === 'string' ? aws.partition : expected;
  const otherPartition = (regions: unknown, path: PropertyKey[]) => {
    if (!Array.isArray(regions)) return;
    regions.forEach((r, i) => {
      if (typeof r === 'string' && partitionOfRegion(r) !== partition)
        issue(ctx, `is not in partition ${partition}, Keyturn's own; one Keyturn serves one partition`, [
          ...path,
          i,
        ]);
    });
  };
  otherPartition(aws.regions, ['aws', 'regions']);
  if (Array.isArray(aws.regions) && !aws.regions.includes(aws.region))
    issue(ctx, `does not list Keyturn's own region ${aws.region}; add it`, ['aws', 'regions'], false);
  if (!Array.isArray(aws.accounts)) return;
  const ids = [aws.accountId];
  const aliases = [aws.alias];
  aws.accounts.forEach((a: unknown, i) => {
    if (!isRecord(a)) return;
    const path = ['aws', 'accounts', i];
    if (typeof a.accountId === 'string') {
      if (a.accountId === aws.accountId)
        issue(ctx, "is Keyturn's own account (aws.accountId); list only member accounts here", [
          ...path,
          'accountId',
        ]);
      else if (ids.includes(a.accountId))
        issue(ctx, 'is listed twice in aws.accounts', [...path, 'accountId']);
      ids.push(a.accountId);
    }
    if (typeof a.alias === 'string') {
      if (aliases.includes(a.alias))
        issue(ctx, 'is the alias of another account; aliases name one account each', [...path, 'alias']);
      aliases.push(a.alias);
    }
    otherPartition(a.regions, [...path, 'regions']);
    if (typeof a.grantorRole === 'string' && typeof a.accountId === 'string') {
      const m = ROLE_ARN.exec(a.grantorRole);
      const name = m?.[3]?.split('/').pop();
      if (m && name !== GRANTOR_ROLE_NAME)
        issue(
          ctx,
          `is not a role named ${GRANTOR_ROLE_NAME}; Keyturn may assume only the grantor template's role (its permissions are bounded), under any path, so deploy the template there and name its role`,
          [...path, 'grantorRole'],
        );
      else if (m && m[2] !== a.accountId)
        issue(
          ctx,
          `is a role in account ${m[2]}, not in ${a.accountId}; the grantor role lives in the account it serves`,
          [...path, 'grantorRole'],
        );
      else if (m && m[1] !== partition)
        issue(ctx, `is in partition ${m[1]}, not ${partition}`, [...path, 'grantorRole']);
    }
  });
}

const channelId = () =>
  text().regex(SLACK_CHANNEL_ID, {
    error: 'is not a Slack channel id (C… or G…; in Slack: channel details → copy channel ID)',
  });

const AUDIT_EVENTS = ['all', 'anomalies'] as const;

export const slack = strictObject(
  {
    requestsChannel: channelId(),
    auditChannel: channelId(),
    auditEvents: z.enum(AUDIT_EVENTS, { error: `is not one of ${AUDIT_EVENTS.join(', ')}` }).default('all'),
  },
  'a mapping with requestsChannel and auditChannel',
);

// ---------------------------------------------------------------------------------------------------------
// digest, commandOutput, sandbox

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export const digest = strictObject(
  {
    at: text().regex(CLOCK_TIME, { error: 'is not a 24-hour time like 09:00' }).default('09:00'),
    timezone: text()
      .refine(isTimeZone, { error: 'is not an IANA time zone like UTC, Asia/Tokyo or Europe/Berlin' })
      .default('UTC'),
  },
  'a mapping with at and timezone',
);

export const commandOutput = strictObject(
  {
    s3Bucket: text()
      .regex(S3_BUCKET, { error: 'is not an S3 bucket name like keyturn-run-output' })
      .optional(),
    s3KeyPrefix: text().max(500, { error: 'is longer than 500 characters, the most SSM accepts' }).optional(),
    cloudWatchLogGroup: text()
      .regex(LOG_GROUP, { error: 'is not a CloudWatch Logs group name like /keyturn/run-command' })
      .optional(),
  },
  'a mapping with s3Bucket, s3KeyPrefix and cloudWatchLogGroup',
);

const sandboxNode = strictObject(
  {
    id: text().regex(NODE_ID, { error: 'is not a node id like i-0123456789abcdef0 or mi-0123456789abcdef0' }),
    name: text().min(1, { error: 'is empty; give the node a name' }),
    tags: tagMap(),
    // The simulated account and region the node is in: an account id or alias from aws (default: Keyturn's own).
    account: text().optional(),
    region: region().optional(),
    ping: z
      .enum(['Online', 'ConnectionLost', 'Inactive'], {
        error: 'is not one of Online, ConnectionLost, Inactive',
      })
      .default('Online'),
  },
  'a mapping with id, name, tags, account, region and ping',
);

export const sandbox = strictObject(
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
// where targets and sandbox nodes are

interface AccountsView {
  accountId: string;
  alias?: string | undefined;
  region: string;
  regions?: readonly string[] | undefined;
  accounts: readonly { accountId: string; alias?: string | undefined; regions: readonly string[] }[];
}

/** The account id an `account:` value names (an id or an alias), with its regions; undefined when undeclared. */
export function resolveAccount(
  aws: AccountsView,
  value: string | undefined,
): { accountId: string; regions: readonly string[]; home: boolean; index?: number } | undefined {
  if (value === undefined || value === aws.accountId || (aws.alias !== undefined && value === aws.alias))
    return { accountId: aws.accountId, regions: aws.regions ?? [aws.region], home: true };
  const index = aws.accounts.findIndex((a) => a.accountId === value || a.alias === value);
  const member = aws.accounts[index];
  return member && { accountId: member.accountId, regions: member.regions, home: false, index };
}

/** The region a target or node without `region:` is in: Keyturn's own, or a member account's only region. */
export function defaultRegion(
  aws: AccountsView,
  account: { regions: readonly string[]; home: boolean },
): string {
  return account.home || account.regions.length !== 1 ? aws.region : (account.regions[0] ?? aws.region);
}

/**
 * Every target (and sandbox node) names a declared account and one of that account's regions, so nothing
 * is granted where Keyturn has no grantor role, and the sweeper looks everywhere a grant can be.
 */
export function checkPlaces(config: Record<string, unknown>, ctx: z.core.$RefinementCtx<unknown>): void {
  const parsed = aws.safeParse(config.aws);
  if (!parsed.success) return; // reported on aws itself
  const view = parsed.data;
  const check = (where: unknown, path: PropertyKey[]) => {
    if (!isRecord(where)) return;
    const named = typeof where.account === 'string' ? where.account : undefined;
    if (where.account !== undefined && named === undefined) return; // reported as not text
    const account = resolveAccount(view, named);
    if (!account) {
      issue(
        ctx,
        `is not a declared account; add it under aws.accounts as - { accountId: "${/^\d{12}$/.test(named ?? '') ? named : '<12-digit id>'}", alias: ${/^\d{12}$/.test(named ?? '') ? '<short name>' : named}, regions: [<region>] } and deploy the grantor template there (docs/deploy.md)`,
        [...path, 'account'],
      );
      return;
    }
    if (where.region === undefined && !account.home && account.regions.length > 1) {
      issue(
        ctx,
        `is in several regions (${account.regions.join(', ')}); say which with region: <one of them>`,
        [...path, 'account'],
      );
      return;
    }
    const region = typeof where.region === 'string' ? where.region : defaultRegion(view, account);
    if (!account.regions.includes(region)) {
      const declareAt = account.home ? 'aws.regions' : `aws.accounts[${account.index}].regions`;
      issue(
        ctx,
        `is not one of account ${account.accountId}'s regions (${account.regions.join(', ')}); add it to ${declareAt}`,
        [...path, 'region'],
      );
    }
  };
  if (isRecord(config.targets))
    for (const [name, t] of Object.entries(config.targets)) check(t, ['targets', name]);
  const fleet = isRecord(config.sandbox) ? config.sandbox.fleet : undefined;
  if (Array.isArray(fleet)) for (const [i, n] of fleet.entries()) check(n, ['sandbox', 'fleet', i]);
}
