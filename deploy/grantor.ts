import type { Config } from '../src/config/types';
import { boundaryArn, renderBoundary } from '../src/domain/boundary';
import { accessRoleName, describeIdentity, type Person, trustPolicy } from '../src/domain/person';
import { GRANTOR_ROLE_NAME } from '../src/domain/place';
import { ACCESS_ROLE_PATH, type Partition } from '../src/domain/principal';
import {
  BOUNDARY_LOGICAL_ID,
  boundaryResource,
  type CfnResource,
  grantingStatements,
  grantorRoleArns,
  memberScope,
  PEOPLE_PER_STACK,
  sidPart,
} from './stack';

/**
 * The organisation side of the deploy, written by `npm run package` next to the main template
 * (deploy/access-roles-plugin.js):
 * - `keyturn-grantor.json`, one template for every member account (deployed per account, or as a
 *   StackSet across an OU): the access boundary, the people's access roles, the grantor role the
 *   functions assume, and the event forwarding of the region it is deployed in;
 * - `keyturn-forwarder.json`, the event forwarding alone, for every other (account, region) Keyturn
 *   serves, the home account's other regions included.
 * The main stack gets the matching half: the default bus admits the member accounts' forwarded events
 * (eventBusPolicy), and its rules' patterns (sessionEventsPattern, commandEventsPattern) name the
 * served accounts.
 */

/** CloudFormation values in these templates. */
type Cfn = string | number | boolean | null | Cfn[] | { [key: string]: Cfn };

export interface CfnTemplate {
  AWSTemplateFormatVersion: '2010-09-09';
  Description: string;
  Parameters?: Record<string, Record<string, Cfn>>;
  Resources: Record<string, CfnResource>;
  Outputs?: Record<string, { Description: string; Value: Cfn }>;
}

/** What the grantor stack's parameters default to, known at package time from the main stack. */
export interface HomeDefaults {
  /** The functions' role's name, `keyturn-<stage>-<region>-lambdaRole`, in the home account. */
  functionsRoleName?: string;
}

export const GRANTOR_TEMPLATE_FILE = 'keyturn-grantor.json';
export const FORWARDER_TEMPLATE_FILE = 'keyturn-forwarder.json';

/** Session Manager API calls, as CloudTrail delivers them to EventBridge (FACTS.md). */
export const SESSION_EVENTS = {
  source: ['aws.ssm'],
  'detail-type': ['AWS API Call via CloudTrail'],
  detail: { eventName: ['StartSession', 'TerminateSession', 'ResumeSession'] },
};

/**
 * Every Run Command invocation in a region emits this event (patching, inventory, State Manager…): only
 * Keyturn's document, and only statuses the handler records (final ones).
 */
export const COMMAND_EVENTS = {
  source: ['aws.ssm'],
  'detail-type': ['EC2 Command Invocation Status-change Notification'],
  detail: {
    'document-name': ['AWS-RunShellScript'],
    status: [{ 'anything-but': ['Pending', 'InProgress', 'Delayed', 'Cancelling'] }],
  },
};

/** Every account Keyturn serves, home first: the only ones the home rules accept events from. */
export function servedAccountIds(config: Config): string[] {
  const members = Object.keys(config.aws.accounts)
    .filter((id) => id !== config.aws.accountId)
    .sort();
  return [config.aws.accountId, ...members];
}

/**
 * The main stack's rule patterns: forwarded events keep the account (and region) they happened in, so
 * the home bus's rules match them as they match its own; `account` keeps out any account Keyturn does
 * not serve.
 */
export function sessionEventsPattern(config: Config): Record<string, unknown> {
  return { account: servedAccountIds(config), ...SESSION_EVENTS };
}

export function commandEventsPattern(config: Config): Record<string, unknown> {
  return { account: servedAccountIds(config), ...COMMAND_EVENTS };
}

/** `arn:aws:events:ap-northeast-1:123456789012:event-bus/default`: where every forwarder sends. */
export function homeEventBusArn(config: Config): string {
  return `arn:${config.aws.partition}:events:${config.aws.region}:${config.aws.accountId}:event-bus/default`;
}

/**
 * Main-stack resources for an organisation: the home default bus accepts `events:PutEvents` from the
 * declared member accounts, exactly (not an organisation id: that would admit every account of the
 * organisation, and needs no more config than the accounts keyturn.yml already lists), and only for
 * Session Manager and Run Command events (`events:source`, `events:detail-type`). PutEvents refuses a
 * source starting with `aws.` from anyone but AWS, so these can only be events a member account's
 * rule forwarded. Nothing without member accounts.
 */
export function eventBusPolicy(config: Config): Record<string, CfnResource> {
  const members = servedAccountIds(config).slice(1);
  if (members.length === 0) return {};
  return {
    KeyturnMemberAccountEvents: {
      Type: 'AWS::Events::EventBusPolicy',
      Properties: {
        EventBusName: 'default',
        StatementId: 'keyturn-member-accounts',
        Statement: {
          Effect: 'Allow',
          Principal: { AWS: members.map((id) => `arn:${config.aws.partition}:iam::${id}:root`) },
          Action: 'events:PutEvents',
          Resource: {
            // biome-ignore lint/suspicious/noTemplateCurlyInString: a Fn::Sub placeholder, not a JS template.
            'Fn::Sub': 'arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/default',
          },
          Condition: {
            'ForAllValues:StringEquals': {
              'events:source': SESSION_EVENTS.source,
              'events:detail-type': [...SESSION_EVENTS['detail-type'], ...COMMAND_EVENTS['detail-type']],
            },
          },
        },
      },
    },
  };
}

const EVENT_BUS_PARAMETER = 'KeyturnEventBusArn';
const FUNCTIONS_ROLE_PARAMETER = 'KeyturnFunctionsRoleArn';
const PARTITIONS = 'aws|aws-cn|aws-us-gov';

function eventBusParameter(config: Config): Record<string, Cfn> {
  return {
    Type: 'String',
    Description:
      "Keyturn's event bus: the default bus of its own account, in its own region (the main stack's output EventBusArn)",
    Default: homeEventBusArn(config),
    AllowedPattern: `^arn:(${PARTITIONS}):events:[a-z0-9-]+:\\d{12}:event-bus/default$`,
  };
}

/**
 * The rules that send this (account, region)'s session and command events to Keyturn's bus, and the
 * role EventBridge uses for it. A rule whose target is an event bus in another account or region
 * sends through an execution role in the rule's account that may `events:PutEvents` on that bus
 * (EventBridge user guide: "Sending and receiving events between AWS accounts", and AWS re:Post
 * "eventbridge-centralized-bus-to-bus" for a bus in another region). The role has a generated name,
 * so the template can be deployed in every region of an account.
 */
function forwarderResources(): Record<string, CfnResource> {
  const target = {
    Id: 'keyturn-home-bus',
    Arn: { Ref: EVENT_BUS_PARAMETER },
    RoleArn: { 'Fn::GetAtt': ['KeyturnEventForwarderRole', 'Arn'] },
  };
  const rule = (description: string, pattern: object): CfnResource => ({
    Type: 'AWS::Events::Rule',
    Properties: {
      Description: description,
      EventBusName: 'default',
      EventPattern: pattern,
      State: 'ENABLED',
      Targets: [target],
    },
  });
  return {
    KeyturnEventForwarderRole: {
      Type: 'AWS::IAM::Role',
      Properties: {
        Description: "EventBridge forwards Session Manager and Run Command events to Keyturn's bus",
        AssumeRolePolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { Service: 'events.amazonaws.com' },
              Action: 'sts:AssumeRole',
              // Only EventBridge acting for this account's rules (confused deputy).
              Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
            },
          ],
        },
        Policies: [
          {
            PolicyName: 'put-events-on-keyturn-bus',
            PolicyDocument: {
              Version: '2012-10-17',
              Statement: [
                { Effect: 'Allow', Action: 'events:PutEvents', Resource: { Ref: EVENT_BUS_PARAMETER } },
              ],
            },
          },
        ],
      },
    },
    KeyturnSessionEventsForwarder: rule(
      "Session Manager sessions started, terminated or resumed, to Keyturn's bus",
      SESSION_EVENTS,
    ),
    KeyturnCommandEventsForwarder: rule(
      "Keyturn's Run Command invocations that finished, to Keyturn's bus",
      COMMAND_EVENTS,
    ),
  };
}

/** The forwarder template: one per (account, region) Keyturn serves, except the home account's own region. */
export function forwarderTemplate(config: Config): CfnTemplate {
  return {
    AWSTemplateFormatVersion: '2010-09-09',
    Description:
      "Keyturn event forwarding: this region's Session Manager and Run Command events to Keyturn's bus (docs/deploy.md#an-organisation)",
    Parameters: { [EVENT_BUS_PARAMETER]: eventBusParameter(config) },
    Resources: forwarderResources(),
  };
}

/**
 * `arn:${AWS::Partition}:…` strings as `Fn::Sub`, so one template serves every account: a string that
 * names a pseudo parameter is substituted, any other `${…}` in it (an IAM policy variable such as
 * `${aws:userid}`) is escaped as `${!…}`, and strings without one stay literal.
 */
export function subPseudoParameters(value: unknown): Cfn {
  if (typeof value === 'string') {
    if (!value.includes('${AWS::')) return value;
    return { 'Fn::Sub': value.replace(/\$\{(?!AWS::)/g, '${!') };
  }
  if (Array.isArray(value)) return value.map(subPseudoParameters);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, subPseudoParameters(v)]));
  }
  return value as Cfn;
}

/** The people with an access role in every member account: everyone but `attach: direct`. */
function memberPeople(config: Config): Person[] {
  return Object.values(config.people)
    .filter((p) => p.attach !== 'direct')
    .sort((a, b) => a.user.localeCompare(b.user));
}

/**
 * Access roles of a member account: the home account's names, path and trust (people's identities are
 * in the home account, and they assume their access role in a member account from there).
 */
function memberAccessRoles(
  config: Config,
  people: readonly Person[],
  boundary: Cfn,
): Record<string, CfnResource> {
  const home = { partition: config.aws.partition, accountId: config.aws.accountId };
  return Object.fromEntries(
    people.map((person): [string, CfnResource] => [
      `AccessRole${sidPart(person.user)}`,
      {
        Type: 'AWS::IAM::Role',
        Properties: {
          RoleName: accessRoleName(person.user),
          Path: ACCESS_ROLE_PATH,
          Description: `Keyturn access role of Slack user ${person.user} (${describeIdentity(person.identity)} in account ${config.aws.accountId})`,
          AssumeRolePolicyDocument: trustPolicy(home, person.identity),
          PermissionsBoundary: boundary,
          // Session Manager sessions outlive the credentials that started them; one hour is the default.
          MaxSessionDuration: 3600,
        },
      },
    ]),
  );
}

/**
 * Past PEOPLE_PER_STACK people (CloudFormation's 500 resources per stack), the member accounts' access
 * roles move out of the grantor template into templates of that many roles each,
 * `keyturn-grantor-access-roles-<n>.json`, deployed after it in every member account, as the home
 * account's do (deploy/stack.ts accessRoleStacks).
 */
export function grantorAccessRoleStacks(config: Config): CfnTemplate[] {
  const people = memberPeople(config);
  if (people.length <= PEOPLE_PER_STACK) return [];
  // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation pseudo parameters, substituted per account.
  const account = { partition: '${AWS::Partition}' as Partition, accountId: '${AWS::AccountId}' };
  const stacks: CfnTemplate[] = [];
  for (let i = 0; i < people.length; i += PEOPLE_PER_STACK) {
    const chunk = people.slice(i, i + PEOPLE_PER_STACK);
    stacks.push({
      AWSTemplateFormatVersion: '2010-09-09',
      Description: `Keyturn access roles ${i + 1}-${i + chunk.length} of ${people.length} in a member account (deploy after keyturn-grantor.json)`,
      Resources: memberAccessRoles(config, chunk, { 'Fn::Sub': boundaryArn(account) }),
    });
  }
  return stacks;
}

/**
 * The grantor template, generic over member accounts (`AWS::AccountId`, `AWS::Partition`), so one file
 * is deployed to each of them, by hand or as a StackSet:
 * - the access boundary, rendered for the union of the member accounts' targets in their regions
 *   (the boundary only caps; what a grant allows is its own policy, which names its account, region
 *   and target);
 * - an access role per mapped person (not `attach: direct`), with the home account's names, path and
 *   trust: people sign in to the home account, and assume their access role in a member account from
 *   there;
 * - the grantor role, with the same granting statements as the functions' role has in the home account
 *   (deploy/stack.ts grantingStatements), trusting exactly the functions' role ARN;
 * - the event forwarding of the region the stack is deployed in.
 */
export function grantorTemplate(config: Config, defaults: HomeDefaults = {}): CfnTemplate {
  const scope = memberScope(config);
  // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation pseudo parameters, substituted per account.
  const account = { partition: '${AWS::Partition}' as Partition, accountId: '${AWS::AccountId}' };
  const boundary = renderBoundary({ ...account, region: config.aws.region }, scope.targets);
  if (!boundary.ok) {
    throw new Error(
      `the member accounts' access boundary would be ${boundary.error.chars} characters, over IAM's ${boundary.error.limit} for a managed policy; ` +
        'targets that share tag sets share a statement, so fewer distinct tag sets make it smaller',
    );
  }
  const people = memberPeople(config);
  // Up to PEOPLE_PER_STACK people their roles live here; past it, in grantorAccessRoleStacks' templates.
  const accessRoles =
    people.length <= PEOPLE_PER_STACK ? memberAccessRoles(config, people, { Ref: BOUNDARY_LOGICAL_ID }) : {};
  const functionsRole: Record<string, Cfn> = {
    Type: 'String',
    Description:
      "The only principal the grantor role trusts: Keyturn's functions' role (the main stack's output FunctionsRoleArn), or the role or user a local Keyturn runs as",
    AllowedPattern: `^arn:(${PARTITIONS}):iam::\\d{12}:(role|user)/[\\w+=,.@/-]+$`,
  };
  // The stage's own role, as packaged: deploying the template needs no parameter for the usual case.
  if (defaults.functionsRoleName) {
    functionsRole.Default = `arn:${config.aws.partition}:iam::${config.aws.accountId}:role/${defaults.functionsRoleName}`;
  }

  return {
    AWSTemplateFormatVersion: '2010-09-09',
    Description:
      'Keyturn in a member account: the access boundary, access roles, the grantor role Keyturn assumes, and event forwarding (docs/deploy.md#an-organisation)',
    Parameters: {
      [FUNCTIONS_ROLE_PARAMETER]: functionsRole,
      [EVENT_BUS_PARAMETER]: eventBusParameter(config),
    },
    Resources: {
      [BOUNDARY_LOGICAL_ID]: boundaryResource(subPseudoParameters(boundary.value)),
      ...accessRoles,
      KeyturnGrantorRole: {
        Type: 'AWS::IAM::Role',
        Properties: {
          RoleName: GRANTOR_ROLE_NAME,
          Description: "Assumed by Keyturn's functions to grant, revoke and run in this account",
          AssumeRolePolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              {
                Sid: 'OnlyKeyturnFunctions',
                Effect: 'Allow',
                // The exact role ARN: IAM stores it as the role's unique id, so not even a role recreated
                // under the same name is trusted (redeploy this stack after recreating the main stack).
                Principal: { AWS: { Ref: FUNCTIONS_ROLE_PARAMETER } },
                Action: 'sts:AssumeRole',
              },
            ],
          },
          Policies: [
            {
              PolicyName: 'keyturn-grantor',
              PolicyDocument: { Version: '2012-10-17', Statement: grantingStatements(config, scope) },
            },
          ],
          MaxSessionDuration: 3600,
        },
      },
      ...forwarderResources(),
    },
    Outputs: {
      GrantorRoleArn: {
        Description: 'The role Keyturn assumes here (aws.accounts[].grantorRole, when not the default)',
        Value: { 'Fn::GetAtt': ['KeyturnGrantorRole', 'Arn'] },
      },
    },
  };
}

/** What `npm run package` writes for an organisation: the grantor template only with member accounts. */
export function organisationTemplates(
  config: Config,
  defaults: HomeDefaults = {},
): { file: string; template: CfnTemplate }[] {
  const templates = [{ file: FORWARDER_TEMPLATE_FILE, template: forwarderTemplate(config) }];
  if (grantorRoleArns(config).length > 0) {
    templates.unshift(
      { file: GRANTOR_TEMPLATE_FILE, template: grantorTemplate(config, defaults) },
      ...grantorAccessRoleStacks(config).map((template, i) => ({
        file: `keyturn-grantor-access-roles-${i + 1}.json`,
        template,
      })),
    );
  }
  return templates;
}
