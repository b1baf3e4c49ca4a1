import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tableDefinition } from '../src/adapters/dynamodb/table';
import { compileConfig } from '../src/config/compiled';
import { loadConfig } from '../src/config/load';
import type { Config } from '../src/config/types';
import { principalArn } from '../src/domain/principal';

/**
 * The parts of serverless.yml that depend on keyturn.yml, computed at package time by
 * deploy/resolve.js (a Serverless variable source). The role, the digest schedule and the table are
 * pure functions of the validated config, so the stack cannot disagree with the config it bundles.
 */

/** A CloudFormation value: a literal, or one of the intrinsics the role policy needs. */
export type CfnValue = string | { 'Fn::Sub': string } | { 'Fn::GetAtt': [string, string] };

export interface PolicyStatement {
  Sid: string;
  Effect: 'Allow';
  Action: string[];
  Resource: CfnValue[];
  Condition?: Record<string, Record<string, CfnValue | string[]>>;
}

/** Logical ids in serverless.yml `resources:` that the role policy refers to. */
export const LOGICAL_IDS = { table: 'KeyturnTable', queue: 'JobQueue' } as const;

/** The tag Session Manager reads for Run As (FACTS.md); the only tag key Keyturn may set. */
export const RUN_AS_TAG = 'SSMSessionRunAs';

/** Run Command snippets run only through this AWS-owned document (FACTS.md "Run Command"). */
export const RUN_COMMAND_DOCUMENT = 'AWS-RunShellScript';

export interface SecretParameterNames {
  slackBotToken: string;
  slackSigningSecret: string;
}

export interface DeployConfig {
  config: Config;
  /** Path of the config file relative to the service directory: bundled there, read from /var/task. */
  configFile: string;
}

/**
 * The config the stack is built from, through the same loader the functions use at cold start
 * (KEYTURN_CONFIG, else keyturn.yml, else the shipped example). It must live inside the service
 * directory, because that is what gets zipped next to the bundles.
 */
export function loadDeployConfig(opts: {
  serviceDir: string;
  env: Record<string, string | undefined>;
  log: (msg: string) => void;
}): DeployConfig {
  const config = loadConfig({ env: opts.env, cwd: opts.serviceDir, log: opts.log });
  const configured = opts.env.KEYTURN_CONFIG;
  const file = configured ? path.resolve(opts.serviceDir, configured) : defaultConfigFile(opts.serviceDir);
  const relative = path.relative(opts.serviceDir, file);
  if (relative.startsWith('..') || path.isAbsolute(relative)) {
    throw new Error(
      `KEYTURN_CONFIG=${configured}: the config is bundled with the functions, so it must be inside ${opts.serviceDir}`,
    );
  }
  return { config, configFile: relative.split(path.sep).join('/') };
}

/** Where the package step writes the validated config for the functions (git-ignored, zipped with each). */
export const COMPILED_CONFIG_FILE = '.keyturn-package/config.json';

/**
 * Writes the config the stack is built from, already validated, as the JSON the functions read at
 * cold start (src/config/compiled.ts). Returns its path relative to the service directory.
 */
export function writeCompiledConfig(serviceDir: string, deploy: DeployConfig): string {
  const file = path.join(serviceDir, COMPILED_CONFIG_FILE);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, compileConfig(deploy.config, deploy.configFile));
  return COMPILED_CONFIG_FILE;
}

function defaultConfigFile(serviceDir: string): string {
  const local = path.join(serviceDir, 'keyturn.yml');
  // Same order as loadConfig, which has already succeeded: keyturn.yml if it exists, else the example.
  try {
    if (statSync(local).isFile()) return local;
  } catch {}
  return path.join(serviceDir, 'keyturn.example.yml');
}

/**
 * The stack must run in the region whose nodes it manages: in Lambda the SDK takes AWS_REGION (the
 * function's region) over keyturn.yml's `aws.region`, while grant policies name `aws.region`.
 */
export function checkRegion(config: Config, region: string): void {
  if (region !== config.aws.region) {
    throw new Error(
      `region ${region} is not keyturn.yml's aws.region (${config.aws.region}); ` +
        'deploy to the region of the nodes, or change aws.region',
    );
  }
}

/** SecureString names as IAM resources: the ARN of `/keyturn/prod/x` is `…:parameter/keyturn/prod/x`. */
export function checkParameterName(what: string, name: string): string {
  if (!/^(\/[A-Za-z0-9_.-]+)+$/.test(name)) {
    throw new Error(
      `${what}: '${name}' is not a fully qualified SSM parameter name like /keyturn/prod/slack-bot-token`,
    );
  }
  return name;
}

/**
 * EventBridge Scheduler, not an EventBridge rule: a rule's cron is in UTC, so a 09:00 Europe/Berlin
 * digest would move by an hour twice a year; Scheduler evaluates the cron in `ScheduleExpressionTimezone`.
 */
export function digestSchedule(config: Config): { expression: string; timezone: string } {
  const [hours, minutes] = config.digest.at.split(':').map(Number);
  return { expression: `cron(${minutes} ${hours} * * ? *)`, timezone: config.digest.timezone };
}

/** `AlarmActions` of both alarms: the optional `alarmTopicArn` param, or no property at all. */
export type AlarmActions = string[] | { Ref: 'AWS::NoValue' };

/**
 * Decided at package time (osls resolves `${param:…}` then): an unset topic leaves the property out
 * (`AWS::NoValue`) rather than a condition comparing two literals around an empty ARN, which
 * cfn-lint rejects (E3033, W8003). A set one must be an SNS topic ARN.
 */
export function alarmActions(topicArn: string): AlarmActions {
  if (topicArn === '') return { Ref: 'AWS::NoValue' };
  if (!/^arn:aws(-cn|-us-gov)?:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/.test(topicArn)) {
    throw new Error(
      `alarmTopicArn: '${topicArn}' is not an SNS topic ARN like arn:aws:sns:ap-northeast-1:123456789012:keyturn-alarms`,
    );
  }
  return [topicArn];
}

/** The table the code expects (src/adapters/dynamodb/table.ts), hardened for production. */
export function tableProperties(tableName: string): Record<string, unknown> {
  const definition = tableDefinition(tableName);
  return {
    TableName: definition.TableName,
    BillingMode: definition.BillingMode,
    AttributeDefinitions: definition.AttributeDefinitions,
    KeySchema: definition.KeySchema,
    GlobalSecondaryIndexes: definition.GlobalSecondaryIndexes,
    PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    DeletionProtectionEnabled: true,
  };
}

const sub = (template: string): CfnValue => ({ 'Fn::Sub': template });
const getAtt = (logicalId: string, attribute: string): CfnValue => ({ 'Fn::GetAtt': [logicalId, attribute] });

/**
 * The functions' role, statement by statement. It is the privilege-escalation guard: whatever a bug
 * in Keyturn does, this role can only manage `/keyturn/` policies on the people in keyturn.yml, tag
 * them with the Run As key, and run the one shell document on nodes of snippet targets.
 * test/deploy/role-policy.test.ts evaluates the generated template with an IAM policy evaluator.
 */
export function roleStatements(config: Config, parameters: SecretParameterNames): PolicyStatement[] {
  // CloudFormation pseudo parameters, substituted by Fn::Sub at deploy time.
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a Fn::Sub placeholder, not a JS template.
  const account = '${AWS::AccountId}';
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a Fn::Sub placeholder, not a JS template.
  const region = '${AWS::Region}';
  const keyturnPolicies = `arn:aws:iam::${account}:policy/keyturn/*`;
  // A condition value is not substituted by itself: it needs its own Fn::Sub.
  const onlyKeyturnPolicies = { ArnLike: { 'iam:PolicyARN': sub(keyturnPolicies) } };

  const people = Object.values(config.people);
  // The ARN carries the IAM path (`role/ops/alice`) but names are unique per account, so
  // `<kind>/<name>` and `<kind>/*/<name>` together match that one principal and nobody else.
  const principals = (kind: 'user' | 'role') =>
    [...new Set(people.filter((p) => p.kind === kind).map((p) => p.name))].sort().flatMap((name) => {
      const arn = principalArn(account, { kind, name });
      return [sub(arn), sub(arn.replace(`:${kind}/`, `:${kind}/*/`))];
    });
  const users = principals('user');
  const roles = principals('role');
  const anyUser = sub(`arn:aws:iam::${account}:user/*`);
  const anyRole = sub(`arn:aws:iam::${account}:role/*`);

  const statements: PolicyStatement[] = [
    {
      // Writes are confined to Keyturn's own policies (path /keyturn/).
      Sid: 'ManageKeyturnPolicies',
      Effect: 'Allow',
      Action: [
        'iam:CreatePolicy',
        // CreatePolicy with Tags is also authorized as TagPolicy (grant id, requester, target).
        'iam:TagPolicy',
        // Extension: a new version with SetAsDefault, older versions deleted past IAM's five.
        'iam:CreatePolicyVersion',
        'iam:ListPolicyVersions',
        'iam:DeletePolicyVersion',
        'iam:DeletePolicy',
        // Revocation and orphan clean-up: who holds it, so it can be detached before DeletePolicy.
        'iam:ListEntitiesForPolicy',
      ],
      Resource: [sub(keyturnPolicies)],
    },
  ];
  // Attaching is the dangerous half: only /keyturn/ policies, only onto people mapped in keyturn.yml
  // (never Keyturn's own role). Detaching a /keyturn/ policy can only take access away, so it is
  // allowed on any user, role or group: a person removed from keyturn.yml still loses an old grant,
  // and a policy someone attached to a group by hand can still be deleted.
  if (users.length > 0) {
    statements.push({
      Sid: 'AttachKeyturnPoliciesToMappedUsers',
      Effect: 'Allow',
      Action: ['iam:AttachUserPolicy'],
      Resource: users,
      Condition: onlyKeyturnPolicies,
    });
  }
  if (roles.length > 0) {
    statements.push({
      Sid: 'AttachKeyturnPoliciesToMappedRoles',
      Effect: 'Allow',
      Action: ['iam:AttachRolePolicy'],
      Resource: roles,
      Condition: onlyKeyturnPolicies,
    });
  }
  statements.push({
    Sid: 'DetachKeyturnPolicies',
    Effect: 'Allow',
    Action: ['iam:DetachUserPolicy', 'iam:DetachRolePolicy', 'iam:DetachGroupPolicy'],
    Resource: [anyUser, anyRole, sub(`arn:aws:iam::${account}:group/*`)],
    Condition: onlyKeyturnPolicies,
  });

  // Run As: only the SSMSessionRunAs key, only on mapped people. Removing that tag can widen what a
  // session may do on a node (back to ssm-user, a sudoer), so untagging is as narrow as tagging.
  // `Null: false` because ForAllValues is true when the request carries no tag keys at all.
  if (Object.values(config.targets).some((t) => t.runAs !== undefined)) {
    const onlyRunAsTag = {
      'ForAllValues:StringEquals': { 'aws:TagKeys': [RUN_AS_TAG] },
      Null: { 'aws:TagKeys': 'false' },
    };
    if (users.length > 0) {
      statements.push({
        Sid: 'RunAsTagOnMappedUsers',
        Effect: 'Allow',
        Action: ['iam:TagUser', 'iam:UntagUser'],
        Resource: users,
        Condition: onlyRunAsTag,
      });
    }
    if (roles.length > 0) {
      statements.push({
        Sid: 'RunAsTagOnMappedRoles',
        Effect: 'Allow',
        Action: ['iam:TagRole', 'iam:UntagRole'],
        Resource: roles,
        Condition: onlyRunAsTag,
      });
    }
  }

  statements.push(
    {
      // Readiness check after attaching (FACTS.md: IAM is eventually consistent), and the mapped
      // principals' attachment count against the quota.
      Sid: 'ReadMappedPrincipals',
      Effect: 'Allow',
      Action: ['iam:SimulatePrincipalPolicy', 'iam:ListAttachedUserPolicies', 'iam:ListAttachedRolePolicies'],
      Resource: [...users, ...roles],
    },
    {
      // Neither action supports resource-level permissions.
      Sid: 'ReadAccountQuotasAndPolicyList',
      Effect: 'Allow',
      Action: ['iam:GetAccountSummary', 'iam:ListPolicies'],
      Resource: ['*'],
    },
  );

  // Run Command: SendCommand is authorized against the document and against every node it reaches.
  const snippetTargets = [...new Set(Object.values(config.snippets).flatMap((s) => s.targets))].sort();
  if (snippetTargets.length > 0) {
    statements.push({
      Sid: 'RunCommandDocument',
      Effect: 'Allow',
      Action: ['ssm:SendCommand'],
      // AWS-owned documents have no account in their ARN; `*` matches that empty field (FACTS.md form).
      Resource: [sub(`arn:aws:ssm:${region}:*:document/${RUN_COMMAND_DOCUMENT}`)],
    });
    // One statement per target: a statement's conditions are ANDed, so each target's tags stand alone.
    snippetTargets.forEach((name, i) => {
      const target = config.targets[name];
      if (!target) throw new Error(`snippet target ${name} is not a configured target`);
      statements.push({
        Sid: `RunCommandOnTarget${i + 1}${sidPart(name)}`,
        Effect: 'Allow',
        Action: ['ssm:SendCommand'],
        Resource: [
          sub(`arn:aws:ec2:${region}:${account}:instance/*`),
          sub(`arn:aws:ssm:${region}:${account}:managed-instance/*`),
        ],
        Condition: {
          StringEquals: Object.fromEntries(
            Object.entries(target.tags).map(([key, value]) => [`ssm:resourceTag/${key}`, value]),
          ),
        },
      });
    });
  }

  statements.push(
    {
      // An open session survives policy removal (FACTS.md), so expiry terminates it.
      Sid: 'TerminateSessions',
      Effect: 'Allow',
      Action: ['ssm:TerminateSession'],
      Resource: [sub(`arn:aws:ssm:${region}:${account}:session/*`)],
    },
    {
      // Read-only SSM calls without resource-level permissions.
      Sid: 'ReadSessionsNodesAndCommands',
      Effect: 'Allow',
      Action: [
        'ssm:DescribeSessions',
        'ssm:DescribeInstanceInformation',
        'ssm:GetCommandInvocation',
        'ssm:ListCommandInvocations',
        // Run status, and finding a command by its Comment after a lost SendCommand answer.
        'ssm:ListCommands',
      ],
      Resource: ['*'],
    },
    {
      // Slack secrets, read at cold start. SecureStrings under the AWS managed key aws/ssm need no
      // kms:Decrypt grant here; that key's policy allows use through SSM within the account.
      Sid: 'ReadSlackSecrets',
      Effect: 'Allow',
      Action: ['ssm:GetParameter'],
      Resource: [parameters.slackBotToken, parameters.slackSigningSecret].map((name) =>
        sub(`arn:aws:ssm:${region}:${account}:parameter${name}`),
      ),
    },
    {
      Sid: 'TableItems',
      Effect: 'Allow',
      Action: [
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'dynamodb:DeleteItem',
        'dynamodb:Query',
      ],
      Resource: [getAtt(LOGICAL_IDS.table, 'Arn')],
    },
    {
      Sid: 'TableIndexes',
      Effect: 'Allow',
      Action: ['dynamodb:Query'],
      Resource: [sub(`\${${LOGICAL_IDS.table}.Arn}/index/*`)],
    },
    {
      // Receiving and deleting are granted by the framework for the worker's SQS event source.
      Sid: 'EnqueueJobs',
      Effect: 'Allow',
      Action: ['sqs:SendMessage'],
      Resource: [getAtt(LOGICAL_IDS.queue, 'Arn')],
    },
    {
      // A failed job comes back after a short, growing delay instead of the queue's 30-minute
      // visibility timeout (src/domain/job-retry.ts, FACTS.md "Lambda and SQS").
      Sid: 'RetryFailedJobsSooner',
      Effect: 'Allow',
      Action: ['sqs:ChangeMessageVisibility'],
      Resource: [getAtt(LOGICAL_IDS.queue, 'Arn')],
    },
  );
  return statements;
}

/** `prod-raspi` → `ProdRaspi`: Sids allow only letters and digits. */
function sidPart(name: string): string {
  return name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join('');
}
