import { z } from 'zod';
import { partitionOfRegion } from '../../domain/principal';
import { isRecord, issue, SLACK_USER_GROUP_ID, slackUserId, strictObject, text } from './common';
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

export const aws = strictObject(
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

/** A partition given by hand must be the one its region is in. */
export function checkPartition(aws: unknown, ctx: z.core.$RefinementCtx<unknown>): void {
  if (!isRecord(aws) || typeof aws.partition !== 'string' || typeof aws.region !== 'string') return;
  const expected = partitionOfRegion(aws.region);
  if (aws.partition !== expected)
    issue(
      ctx,
      `is not the partition of region ${aws.region} (${expected}); leave partition out to derive it`,
      ['aws', 'partition'],
    );
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
    ping: z
      .enum(['Online', 'ConnectionLost', 'Inactive'], {
        error: 'is not one of Online, ConnectionLost, Inactive',
      })
      .default('Online'),
  },
  'a mapping with id, name, tags and ping',
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
