import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tableDefinition } from '../src/adapters/dynamodb/table';
import { compileConfig } from '../src/config/compiled';
import { loadConfig } from '../src/config/load';
import type { Config } from '../src/config/types';
import type { Target } from '../src/domain/target';
import { BOUNDARY_NAME, BOUNDARY_PATH, boundaryArn, renderBoundary } from '../src/domain/boundary';
import { accessRoleName, describeIdentity, personPrincipal, trustPolicy } from '../src/domain/person';
import { ACCESS_ROLE_PATH, type AwsAccount, type Partition, principalArn } from '../src/domain/principal';

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
 * What an account's granting role may do there, whichever role it is: the functions' own role in the
 * home account, the grantor role (deploy/grantor.ts) in a member account. `${AWS::AccountId}` is the
 * account the template is deployed in; the regions and targets are those served there.
 */
export interface GrantingScope {
  /** The regions served in the account: sessions are terminated there. */
  regions: readonly string[];
  /** The targets whose nodes are in the account (each names its own region). */
  targets: readonly Target[];
  /** Whether `attach: direct` people are named: their users and roles live in the home account only. */
  direct: boolean;
}

/** The home account's scope: its targets, its `aws.regions`, and the `attach: direct` opt-ins. */
export function homeScope(config: Config): GrantingScope {
  const home = config.aws.accounts[config.aws.accountId];
  return {
    regions: home?.regions ?? [config.aws.region],
    targets: Object.values(config.targets).filter((t) => t.account === config.aws.accountId),
    direct: true,
  };
}

/**
 * The member accounts' scope, for one grantor template usable in every member account (and as a
 * StackSet): the union of their regions and targets. Nothing is granted through it by itself; each
 * grant policy names its own account and region (src/app/grant-policy.ts).
 */
export function memberScope(config: Config): GrantingScope {
  const members = Object.values(config.aws.accounts).filter((a) => a.accountId !== config.aws.accountId);
  return {
    regions: [...new Set(members.flatMap((a) => a.regions))].sort(),
    targets: Object.values(config.targets).filter((t) => t.account !== config.aws.accountId),
    direct: false,
  };
}

/**
 * IAM and SSM statements of a granting role, statement by statement. It is the privilege-escalation
 * guard: whatever a bug in Keyturn does, the role can only create and re-version `/keyturn/` policies
 * and attach them to roles under `/keyturn/people/` that carry the access boundary, set the Run As tag
 * to a configured user on those roles, and run the one shell document on nodes of snippet targets. Its
 * size does not grow with the number of people (only with the few who opt into `attach: direct`).
 * test/deploy/role-policy.test.ts and test/deploy/grantor.test.ts evaluate the generated templates.
 */
export function grantingStatements(config: Config, scope: GrantingScope): PolicyStatement[] {
  // CloudFormation pseudo parameters, substituted by Fn::Sub at deploy time.
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a Fn::Sub placeholder, not a JS template.
  const account = '${AWS::AccountId}';
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a Fn::Sub placeholder, not a JS template.
  const partition = '${AWS::Partition}';
  const cfnAccount: AwsAccount = { partition: partition as Partition, accountId: account };
  const keyturnPolicies = `arn:${partition}:iam::${account}:policy/keyturn/*`;
  // A condition value is not substituted by itself: it needs its own Fn::Sub.
  const onlyKeyturnPolicies = { ArnLike: { 'iam:PolicyARN': sub(keyturnPolicies) } };
  const accessRoles = sub(`arn:${partition}:iam::${account}:role${ACCESS_ROLE_PATH}*`);
  const boundary = sub(boundaryArn(cfnAccount));
  const regions = [...new Set(scope.regions)].sort();

  // Only people who opted into `attach: direct` are named; everyone else is covered by `role/keyturn/people/*`.
  // The ARN carries the IAM path (`user/engineering/erin`), which the config gives, so each is one exact ARN.
  const direct = scope.direct
    ? Object.values(config.people)
        .filter((p) => p.attach === 'direct')
        .map((p) => personPrincipal(p))
    : [];
  const directArns = (kind: 'user' | 'role') =>
    [...new Set(direct.filter((p) => p.kind === kind).map((p) => principalArn(cfnAccount, p)))]
      .sort()
      .map(sub);
  const users = directArns('user');
  const roles = directArns('role');

  const statements: PolicyStatement[] = [
    {
      // Writes are confined to Keyturn's own policies (path /keyturn/). IAM cannot limit what a policy
      // contains (FACTS.md): the access roles' boundary, outside this path, is what caps it.
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
    {
      // Attaching is the dangerous half: only /keyturn/ policies, only onto access roles, and only while
      // the role carries the access boundary (iam:PermissionsBoundary is the boundary the role has now).
      // The role cannot change a boundary or a trust policy (no Put/DeleteRolePermissionsBoundary, no
      // UpdateAssumeRolePolicy, no CreateRole): the deploy creates the access roles.
      Sid: 'AttachKeyturnPoliciesToAccessRoles',
      Effect: 'Allow',
      Action: ['iam:AttachRolePolicy'],
      Resource: [accessRoles],
      Condition: { ...onlyKeyturnPolicies, StringEquals: { 'iam:PermissionsBoundary': boundary } },
    },
  ];
  if (users.length > 0) {
    statements.push({
      Sid: 'AttachKeyturnPoliciesToDirectUsers',
      Effect: 'Allow',
      Action: ['iam:AttachUserPolicy'],
      Resource: users,
      Condition: onlyKeyturnPolicies,
    });
  }
  if (roles.length > 0) {
    statements.push({
      Sid: 'AttachKeyturnPoliciesToDirectRoles',
      Effect: 'Allow',
      Action: ['iam:AttachRolePolicy'],
      Resource: roles,
      Condition: onlyKeyturnPolicies,
    });
  }
  // Detaching a /keyturn/ policy can only take access away, so it is allowed on any user, role or
  // group: grants from before access roles (attached to people's own users), a person removed from
  // keyturn.yml, and a policy someone attached to a group by hand can all still be cleaned up.
  statements.push({
    Sid: 'DetachKeyturnPolicies',
    Effect: 'Allow',
    Action: ['iam:DetachUserPolicy', 'iam:DetachRolePolicy', 'iam:DetachGroupPolicy'],
    Resource: [
      sub(`arn:${partition}:iam::${account}:user/*`),
      sub(`arn:${partition}:iam::${account}:role/*`),
      sub(`arn:${partition}:iam::${account}:group/*`),
    ],
    Condition: onlyKeyturnPolicies,
  });

  // Run As: only the SSMSessionRunAs key, only a configured value, only on access roles (and direct
  // opt-ins). Removing that tag can widen what a session may do on a node (back to ssm-user, a
  // sudoer), so untagging is as narrow as tagging. `Null: false` because ForAllValues is true when the
  // request carries no tag keys at all.
  const runAsUsers = [...new Set(scope.targets.flatMap((t) => (t.runAs ? [t.runAs] : [])))].sort();
  if (runAsUsers.length > 0) {
    const onlyRunAsTag = {
      'ForAllValues:StringEquals': { 'aws:TagKeys': [RUN_AS_TAG] },
      Null: { 'aws:TagKeys': 'false' },
    };
    const onlyConfiguredUser = {
      ...onlyRunAsTag,
      StringEquals: { [`aws:RequestTag/${RUN_AS_TAG}`]: runAsUsers },
    };
    const runAsStatements = (sid: string, tag: string, untag: string, resources: CfnValue[]) => [
      {
        Sid: `Tag${sid}`,
        Effect: 'Allow' as const,
        Action: [tag],
        Resource: resources,
        Condition: onlyConfiguredUser,
      },
      {
        Sid: `Untag${sid}`,
        Effect: 'Allow' as const,
        Action: [untag],
        Resource: resources,
        Condition: onlyRunAsTag,
      },
    ];
    statements.push(...runAsStatements('RunAsOnAccessRoles', 'iam:TagRole', 'iam:UntagRole', [accessRoles]));
    if (users.length > 0)
      statements.push(...runAsStatements('RunAsOnDirectUsers', 'iam:TagUser', 'iam:UntagUser', users));
    if (roles.length > 0)
      statements.push(...runAsStatements('RunAsOnDirectRoles', 'iam:TagRole', 'iam:UntagRole', roles));
  }

  statements.push(
    {
      // Readiness check after attaching (FACTS.md: IAM is eventually consistent), and the access
      // roles' attachment count against the quota.
      Sid: 'ReadAccessRoles',
      Effect: 'Allow',
      Action: ['iam:SimulatePrincipalPolicy', 'iam:ListAttachedRolePolicies'],
      Resource: [accessRoles, ...roles],
    },
    ...(users.length > 0
      ? [
          {
            Sid: 'ReadDirectUsers',
            Effect: 'Allow' as const,
            Action: ['iam:SimulatePrincipalPolicy', 'iam:ListAttachedUserPolicies'],
            Resource: users,
          },
        ]
      : []),
    {
      // Neither action supports resource-level permissions.
      Sid: 'ReadAccountQuotasAndPolicyList',
      Effect: 'Allow',
      Action: ['iam:GetAccountSummary', 'iam:ListPolicies'],
      Resource: ['*'],
    },
  );

  // Run Command: SendCommand is authorized against the document and against every node it reaches,
  // in the target's own region.
  const snippetTargetNames = new Set(Object.values(config.snippets).flatMap((s) => s.targets));
  const snippetTargets = scope.targets
    .filter((t) => snippetTargetNames.has(t.name))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (snippetTargets.length > 0) {
    const documentRegions = [...new Set(snippetTargets.map((t) => t.region))].sort();
    statements.push({
      Sid: 'RunCommandDocument',
      Effect: 'Allow',
      Action: ['ssm:SendCommand'],
      // AWS-owned documents have no account in their ARN; `*` matches that empty field (FACTS.md form).
      Resource: documentRegions.map((r) =>
        sub(`arn:${partition}:ssm:${r}:*:document/${RUN_COMMAND_DOCUMENT}`),
      ),
    });
    // One statement per target: a statement's conditions are ANDed, so each target's tags stand alone.
    snippetTargets.forEach((target, i) => {
      statements.push({
        Sid: `RunCommandOnTarget${i + 1}${sidPart(target.name)}`,
        Effect: 'Allow',
        Action: ['ssm:SendCommand'],
        Resource: [
          sub(`arn:${partition}:ec2:${target.region}:${account}:instance/*`),
          sub(`arn:${partition}:ssm:${target.region}:${account}:managed-instance/*`),
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
      // An open session survives policy removal (FACTS.md), so expiry terminates it, in every served region.
      Sid: 'TerminateSessions',
      Effect: 'Allow',
      Action: ['ssm:TerminateSession'],
      Resource: regions.map((r) => sub(`arn:${partition}:ssm:${r}:${account}:session/*`)),
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
  );
  return statements;
}

/** The grantor role ARNs of the declared member accounts, sorted: what the functions may assume. */
export function grantorRoleArns(config: Config): string[] {
  return Object.values(config.aws.accounts)
    .flatMap((a) => (a.accountId !== config.aws.accountId && a.grantorRoleArn ? [a.grantorRoleArn] : []))
    .sort();
}

/**
 * The functions' role: the granting statements for the home account (its targets, in each of its
 * `aws.regions`), `sts:AssumeRole` on exactly the declared grantor roles (none without member
 * accounts), and its own secrets, table and queue.
 */
export function roleStatements(config: Config, parameters: SecretParameterNames): PolicyStatement[] {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a Fn::Sub placeholder, not a JS template.
  const account = '${AWS::AccountId}';
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a Fn::Sub placeholder, not a JS template.
  const region = '${AWS::Region}';
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a Fn::Sub placeholder, not a JS template.
  const partition = '${AWS::Partition}';
  const statements = grantingStatements(config, homeScope(config));
  const grantors = grantorRoleArns(config);
  if (grantors.length > 0) {
    statements.push({
      // A member account is reached only through its grantor role, which trusts this role only
      // (deploy/grantor.ts); the ARNs are keyturn.yml's, exactly, with no wildcard.
      Sid: 'AssumeGrantorRoles',
      Effect: 'Allow',
      Action: ['sts:AssumeRole'],
      Resource: grantors,
    });
  }
  statements.push(
    {
      // Slack secrets, both read by one GetParameters at cold start (src/adapters/aws/ssm-parameters.ts).
      // SecureStrings under the AWS managed key aws/ssm need no kms:Decrypt grant here; that key's policy
      // allows use through SSM within the account.
      Sid: 'ReadSlackSecrets',
      Effect: 'Allow',
      Action: ['ssm:GetParameters'],
      Resource: [parameters.slackBotToken, parameters.slackSigningSecret].map((name) =>
        sub(`arn:${partition}:ssm:${region}:${account}:parameter${name}`),
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
export function sidPart(name: string): string {
  return name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join('');
}

/** A CloudFormation resource as the templates hold it. */
export interface CfnResource {
  Type: string;
  Properties: Record<string, unknown>;
  DependsOn?: string[];
}

/** Logical id of the access boundary in the main stack. */
export const BOUNDARY_LOGICAL_ID = 'KeyturnAccessBoundary';

/** The access roles' permissions boundary, the same managed policy in the home and every member account. */
export function boundaryResource(document: unknown): CfnResource {
  return {
    Type: 'AWS::IAM::ManagedPolicy',
    Properties: {
      ManagedPolicyName: BOUNDARY_NAME,
      Path: BOUNDARY_PATH,
      Description:
        'Keyturn access roles: the most any grant can allow (Session Manager on the configured targets)',
      PolicyDocument: document,
    },
  };
}

/**
 * CloudFormation allows 500 resources per stack; the main stack holds ~40 of its own. Up to this many
 * people, their access roles live in the main stack (one `osls deploy`); past it, every access role
 * moves to "people" stacks of this many roles each, written next to the main template by
 * `npm run package` and deployed after it (docs/deploy.md). Chosen well under 500 so a stack keeps
 * room to grow between packages.
 */
export const PEOPLE_PER_STACK = 400;

export interface AccessRoleStacks {
  /** Merged into the main stack's Resources: the boundary, and the access roles when they fit. */
  main: Record<string, CfnResource>;
  /** Standalone templates, one per PEOPLE_PER_STACK people, when there are more people than that. */
  people: {
    Resources: Record<string, CfnResource>;
    AWSTemplateFormatVersion: '2010-09-09';
    Description: string;
  }[];
}

/**
 * Access roles are created at deploy time, not by the functions: a CreateRole permission can force
 * the boundary (iam:PermissionsBoundary condition) but not the trust policy's content, so a role that
 * could create access roles could create one any principal may assume. CloudFormation, run with the
 * deployer's credentials, writes each role's trust policy from keyturn.yml; the functions' role may
 * only attach `/keyturn/` policies to roles that carry the boundary.
 */
export function accessRoleStacks(config: Config): AccessRoleStacks {
  // The home account's own targets, in their regions; member accounts get theirs from deploy/grantor.ts.
  const boundary = renderBoundary(config.aws, homeScope(config).targets);
  if (!boundary.ok) {
    throw new Error(
      `the access boundary would be ${boundary.error.chars} characters, over IAM's ${boundary.error.limit} for a managed policy; ` +
        'targets that share tag sets share a statement, so fewer distinct tag sets make it smaller',
    );
  }
  const people = Object.values(config.people)
    .filter((p) => p.attach !== 'direct')
    .sort((a, b) => a.user.localeCompare(b.user));
  const inMain = people.length <= PEOPLE_PER_STACK;
  const role = (person: (typeof people)[number], boundaryRef: unknown): [string, CfnResource] => [
    `AccessRole${sidPart(person.user)}`,
    {
      Type: 'AWS::IAM::Role',
      Properties: {
        RoleName: accessRoleName(person.user),
        Path: ACCESS_ROLE_PATH,
        Description: `Keyturn access role of Slack user ${person.user} (${describeIdentity(person.identity)})`,
        AssumeRolePolicyDocument: trustPolicy(config.aws, person.identity),
        PermissionsBoundary: boundaryRef,
        // Session Manager sessions outlive the credentials that started them; one hour is the default.
        MaxSessionDuration: 3600,
      },
    },
  ];
  const main: Record<string, CfnResource> = { [BOUNDARY_LOGICAL_ID]: boundaryResource(boundary.value) };
  if (inMain) {
    for (const person of people) {
      const [id, resource] = role(person, { Ref: BOUNDARY_LOGICAL_ID });
      main[id] = resource;
    }
    return { main, people: [] };
  }
  const stacks: AccessRoleStacks['people'] = [];
  for (let i = 0; i < people.length; i += PEOPLE_PER_STACK) {
    const chunk = people.slice(i, i + PEOPLE_PER_STACK);
    stacks.push({
      AWSTemplateFormatVersion: '2010-09-09',
      Description: `Keyturn access roles ${i + 1}-${i + chunk.length} of ${people.length} (deploy after the main stack)`,
      Resources: Object.fromEntries(chunk.map((p) => role(p, boundaryArn(config.aws)))),
    });
  }
  return { main, people: stacks };
}
