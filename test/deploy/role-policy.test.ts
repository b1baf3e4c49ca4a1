import { runSimulation } from '@cloud-copilot/iam-simulate';
import { ACCOUNT, REGION, resolveIntrinsics } from './intrinsics';
import { readTemplate } from './stack-files';
import { analysisResult, type Decision } from '../support/iam-simulation';

// The functions' role, read from the packaged CloudFormation template (built from
// keyturn.example.yml) and evaluated with an offline IAM policy evaluator. This is the
// privilege-escalation guard: whatever a bug in Keyturn asks for, the role can hand out no more
// than a /keyturn/ policy to a person mapped in keyturn.yml.

interface Statement {
  Sid?: string;
  Effect: string;
  Action: string[];
  Resource: string[];
  Condition?: Record<string, Record<string, unknown>>;
}

const template = readTemplate();
const role = template.Resources.IamRoleLambdaExecution!;
const roleName = resolveIntrinsics(template, role.Properties.RoleName) as string;
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/${roleName}`;
const policies = role.Properties.Policies as { PolicyDocument: { Statement: unknown[] } }[];
const statements = policies.flatMap(
  (p) => resolveIntrinsics(template, p.PolicyDocument.Statement) as Statement[],
);
const rolePolicy = { Version: '2012-10-17', Statement: statements };

const iam = (path: string) => `arn:aws:iam::${ACCOUNT}:${path}`;
const KEYTURN_POLICY = iam('policy/keyturn/keyturn-a1b2c3');
// Access roles (keyturn.example.yml's people); the runtime role names none of them.
const ALICE = iam('role/keyturn/people/keyturn-u0alice');
const DAVE = iam('role/keyturn/people/keyturn-u0dave');
const ALICE_USER = iam('user/alice');
const DAVE_ROLE = iam('role/oncall-dave');
const BOUNDARY = iam('policy/keyturn-boundary/keyturn-access-boundary');
/** What IAM puts in iam:PermissionsBoundary: the boundary the target role carries now. */
const withBoundary = (boundary = BOUNDARY) => ({ 'iam:PermissionsBoundary': boundary });
const ssm = (path: string) => `arn:aws:ssm:${REGION}:${ACCOUNT}:${path}`;
// IAM evaluates SendCommand against `arn:aws:ssm:<region>::document/AWS-RunShellScript` (AWS-owned
// documents have no account), which the evaluator cannot parse; it is given the same ARN with an
// account, and 'matches the document ARN IAM really uses' checks the pattern against the real one.
const RUN_SHELL = `arn:aws:ssm:${REGION}:${ACCOUNT}:document/AWS-RunShellScript`;
const awsDocument = (name: string) => `arn:aws:ssm:${REGION}:${ACCOUNT}:document/${name}`;
const PI = ssm('managed-instance/mi-0a1b2c3d4e5f60001');
const EC2 = `arn:aws:ec2:${REGION}:${ACCOUNT}:instance/i-0123456789abcdef0`;
const TABLE = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/keyturn-dev`;
const QUEUE = `arn:aws:sqs:${REGION}:${ACCOUNT}:keyturn-dev-jobs`;

/** One IAM decision: the role's policies are its only identity policies. */
async function decide(
  action: string,
  resource: string,
  context: Record<string, string | string[]> = {},
): Promise<Decision> {
  const response = await runSimulation(
    {
      request: {
        principal: ROLE_ARN,
        action,
        resource: { resource, accountId: resource.split(':')[4] || ACCOUNT },
        contextVariables: context,
      },
      identityPolicies: [{ name: 'keyturn-lambda', policy: rolePolicy }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    },
    // Strict: context keys are taken exactly as given, so a missing tag or policy ARN is missing.
    { simulationMode: 'Strict' },
  );
  return analysisResult(response);
}

const policyArn = (arn: string) => ({ 'iam:PolicyARN': arn });
const tagKeys = (...keys: string[]) => ({ 'aws:TagKeys': keys });
const runAs = (osUser: string) => ({
  ...tagKeys('SSMSessionRunAs'),
  'aws:RequestTag/SSMSessionRunAs': osUser,
});
const fleet = (value: string) => ({ 'ssm:resourceTag/Fleet': value });

describe('the functions role, statement by statement', () => {
  it('is assumable by Lambda only and has no managed policies or boundary-free extras', () => {
    expect(role.Properties.AssumeRolePolicyDocument).toEqual({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Principal: { Service: ['lambda.amazonaws.com'] }, Action: ['sts:AssumeRole'] },
      ],
    });
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    const attachedElsewhere = Object.entries(template.Resources).filter(
      ([, r]) =>
        ['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy'].includes(r.Type) &&
        JSON.stringify(r.Properties).includes('IamRoleLambdaExecution'),
    );
    expect(attachedElsewhere).toEqual([]);
  });

  it('has no wildcard action anywhere: no *, no iam:*, no ssm:*, no service:Prefix*', () => {
    const actions = statements.flatMap((s) => s.Action);
    for (const action of actions) expect(action).toMatch(/^[a-z0-9-]+:[A-Za-z]+$/);
    expect(statements.every((s) => s.Effect === 'Allow')).toBe(true);
    expect(statements.some((s) => 'NotAction' in s || 'NotResource' in s)).toBe(false);
  });

  it('grants exactly these actions on exactly these resources', () => {
    const accessRoles = [iam('role/keyturn/people/*')];
    const onlyKeyturnPolicies = { ArnLike: { 'iam:PolicyARN': iam('policy/keyturn/*') } };
    const onlyRunAsTag = {
      'ForAllValues:StringEquals': { 'aws:TagKeys': ['SSMSessionRunAs'] },
      Null: { 'aws:TagKeys': 'false' },
    };
    const logGroups = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/keyturn-dev*`;
    expect(statements).toEqual([
      // Added by the framework for the functions' own log groups.
      {
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:CreateLogGroup', 'logs:TagResource'],
        Resource: [`${logGroups}:*`],
      },
      { Effect: 'Allow', Action: ['logs:PutLogEvents'], Resource: [`${logGroups}:*:*`] },
      {
        Sid: 'ManageKeyturnPolicies',
        Effect: 'Allow',
        Action: [
          'iam:CreatePolicy',
          'iam:TagPolicy',
          'iam:CreatePolicyVersion',
          'iam:ListPolicyVersions',
          'iam:DeletePolicyVersion',
          'iam:DeletePolicy',
          'iam:ListEntitiesForPolicy',
        ],
        Resource: [iam('policy/keyturn/*')],
      },
      {
        Sid: 'AttachKeyturnPoliciesToAccessRoles',
        Effect: 'Allow',
        Action: ['iam:AttachRolePolicy'],
        Resource: accessRoles,
        Condition: { ...onlyKeyturnPolicies, StringEquals: { 'iam:PermissionsBoundary': BOUNDARY } },
      },
      {
        Sid: 'DetachKeyturnPolicies',
        Effect: 'Allow',
        Action: ['iam:DetachUserPolicy', 'iam:DetachRolePolicy', 'iam:DetachGroupPolicy'],
        Resource: [iam('user/*'), iam('role/*'), iam('group/*')],
        Condition: onlyKeyturnPolicies,
      },
      {
        Sid: 'TagRunAsOnAccessRoles',
        Effect: 'Allow',
        Action: ['iam:TagRole'],
        Resource: accessRoles,
        Condition: { ...onlyRunAsTag, StringEquals: { 'aws:RequestTag/SSMSessionRunAs': ['pi-ops'] } },
      },
      {
        Sid: 'UntagRunAsOnAccessRoles',
        Effect: 'Allow',
        Action: ['iam:UntagRole'],
        Resource: accessRoles,
        Condition: onlyRunAsTag,
      },
      {
        Sid: 'ReadAccessRoles',
        Effect: 'Allow',
        Action: ['iam:SimulatePrincipalPolicy', 'iam:ListAttachedRolePolicies'],
        Resource: accessRoles,
      },
      {
        Sid: 'ReadAccountQuotasAndPolicyList',
        Effect: 'Allow',
        Action: ['iam:GetAccountSummary', 'iam:ListPolicies'],
        Resource: ['*'],
      },
      {
        Sid: 'RunCommandDocument',
        Effect: 'Allow',
        Action: ['ssm:SendCommand'],
        Resource: [`arn:aws:ssm:${REGION}:*:document/AWS-RunShellScript`],
      },
      // keyturn.example.yml: only prod-raspi has snippets, so staging-web nodes get no SendCommand.
      {
        Sid: 'RunCommandOnTarget1ProdRaspi',
        Effect: 'Allow',
        Action: ['ssm:SendCommand'],
        Resource: [`arn:aws:ec2:${REGION}:${ACCOUNT}:instance/*`, ssm('managed-instance/*')],
        Condition: { StringEquals: { 'ssm:resourceTag/Fleet': 'prod-raspi' } },
      },
      {
        Sid: 'TerminateSessions',
        Effect: 'Allow',
        Action: ['ssm:TerminateSession'],
        Resource: [ssm('session/*')],
      },
      {
        Sid: 'ReadSessionsNodesAndCommands',
        Effect: 'Allow',
        Action: [
          'ssm:DescribeSessions',
          'ssm:DescribeInstanceInformation',
          'ssm:GetCommandInvocation',
          'ssm:ListCommandInvocations',
          'ssm:ListCommands',
        ],
        Resource: ['*'],
      },
      // The example's factory member account: its grantor role, and no other role anywhere.
      {
        Sid: 'AssumeGrantorRoles',
        Effect: 'Allow',
        Action: ['sts:AssumeRole'],
        Resource: 'arn:aws:iam::444455556666:role/keyturn-grantor',
      },
      {
        Sid: 'ReadSlackSecrets',
        Effect: 'Allow',
        Action: ['ssm:GetParameters'],
        Resource: [
          ssm('parameter/keyturn/dev/slack-bot-token'),
          ssm('parameter/keyturn/dev/slack-signing-secret'),
        ],
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
        Resource: [TABLE],
      },
      { Sid: 'TableIndexes', Effect: 'Allow', Action: ['dynamodb:Query'], Resource: [`${TABLE}/index/*`] },
      { Sid: 'EnqueueJobs', Effect: 'Allow', Action: ['sqs:SendMessage'], Resource: [QUEUE] },
      {
        Sid: 'RetryFailedJobsSooner',
        Effect: 'Allow',
        Action: ['sqs:ChangeMessageVisibility'],
        Resource: [QUEUE],
      },
      // Added by the framework for the worker's SQS event source.
      {
        Effect: 'Allow',
        Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'],
        Resource: [QUEUE],
      },
    ]);
  });
});

describe('what the role can do (IAM policy evaluator)', () => {
  it.each<[string, string, string, Record<string, string | string[]>]>([
    ['create a /keyturn/ policy', 'iam:CreatePolicy', KEYTURN_POLICY, {}],
    ['add a version to it (extend in place)', 'iam:CreatePolicyVersion', KEYTURN_POLICY, {}],
    ['tag it as it is created', 'iam:TagPolicy', KEYTURN_POLICY, {}],
    ['list its versions', 'iam:ListPolicyVersions', KEYTURN_POLICY, {}],
    [
      'attach it to an access role that carries the boundary',
      'iam:AttachRolePolicy',
      ALICE,
      { ...policyArn(KEYTURN_POLICY), ...withBoundary() },
    ],
    [
      '… to another person’s access role',
      'iam:AttachRolePolicy',
      DAVE,
      { ...policyArn(KEYTURN_POLICY), ...withBoundary() },
    ],
    ['detach it from an access role', 'iam:DetachRolePolicy', ALICE, policyArn(KEYTURN_POLICY)],
    [
      'detach it from a person’s own user (a grant from before access roles)',
      'iam:DetachUserPolicy',
      ALICE_USER,
      policyArn(KEYTURN_POLICY),
    ],
    [
      'detach it from someone no longer mapped (revocation must still work)',
      'iam:DetachUserPolicy',
      iam('user/former-engineer'),
      policyArn(KEYTURN_POLICY),
    ],
    [
      'detach it from a group it was attached to by hand',
      'iam:DetachGroupPolicy',
      iam('group/ops'),
      policyArn(KEYTURN_POLICY),
    ],
    ['delete a non-default version', 'iam:DeletePolicyVersion', KEYTURN_POLICY, {}],
    ['delete the policy', 'iam:DeletePolicy', KEYTURN_POLICY, {}],
    ['list where it is attached', 'iam:ListEntitiesForPolicy', KEYTURN_POLICY, {}],
    ['tag an access role for Run As as a configured user', 'iam:TagRole', ALICE, runAs('pi-ops')],
    ['untag an access role for Run As', 'iam:UntagRole', DAVE, tagKeys('SSMSessionRunAs')],
    ['check an access role with the policy simulator', 'iam:SimulatePrincipalPolicy', ALICE, {}],
    ['count an access role’s attached policies', 'iam:ListAttachedRolePolicies', ALICE, {}],
    ['read the account’s quotas', 'iam:GetAccountSummary', '*', {}],
    ['run AWS-RunShellScript', 'ssm:SendCommand', RUN_SHELL, {}],
    ['… on a Raspberry Pi of a snippet target', 'ssm:SendCommand', PI, fleet('prod-raspi')],
    ['… on an EC2 instance of a snippet target', 'ssm:SendCommand', EC2, fleet('prod-raspi')],
    ['end an open session', 'ssm:TerminateSession', ssm('session/alice-0a1b2c3d4e5f60718'), {}],
    ['read the bot token parameter', 'ssm:GetParameters', ssm('parameter/keyturn/dev/slack-bot-token'), {}],
    [
      'read the signing secret parameter',
      'ssm:GetParameters',
      ssm('parameter/keyturn/dev/slack-signing-secret'),
      {},
    ],
    ['update a grant', 'dynamodb:UpdateItem', TABLE, {}],
    ['query the sweeper index', 'dynamodb:Query', `${TABLE}/index/byStatus`, {}],
    ['enqueue a job', 'sqs:SendMessage', QUEUE, {}],
    ['bring a failed job back sooner', 'sqs:ChangeMessageVisibility', QUEUE, {}],
  ])('can %s', async (_what, action, resource, context) => {
    expect(await decide(action, resource, context)).toBe('Allowed');
  });

  it.each<[string, string, string, Record<string, string | string[]>]>([
    // Attaching anything but a /keyturn/ policy.
    [
      'attach AdministratorAccess to an access role',
      'iam:AttachRolePolicy',
      ALICE,
      { ...policyArn('arn:aws:iam::aws:policy/AdministratorAccess'), ...withBoundary() },
    ],
    [
      'attach a customer policy outside /keyturn/',
      'iam:AttachRolePolicy',
      ALICE,
      { ...policyArn(iam('policy/ops/break-glass')), ...withBoundary() },
    ],
    [
      'attach a policy whose name merely starts with keyturn',
      'iam:AttachRolePolicy',
      ALICE,
      { ...policyArn(iam('policy/keyturn-admin')), ...withBoundary() },
    ],
    [
      'attach a /keyturn/ policy from another account',
      'iam:AttachRolePolicy',
      ALICE,
      { ...policyArn('arn:aws:iam::999988887777:policy/keyturn/x'), ...withBoundary() },
    ],
    ['attach without saying which policy', 'iam:AttachRolePolicy', ALICE, withBoundary()],
    // Attaching even a /keyturn/ policy outside the access-role path or to a role without the boundary.
    [
      'attach a /keyturn/ policy to a role under /keyturn/people/ without the boundary',
      'iam:AttachRolePolicy',
      ALICE,
      policyArn(KEYTURN_POLICY),
    ],
    [
      'attach a /keyturn/ policy to a role under /keyturn/people/ with another boundary',
      'iam:AttachRolePolicy',
      ALICE,
      { ...policyArn(KEYTURN_POLICY), ...withBoundary(iam('policy/keyturn/keyturn-a1b2c3')) },
    ],
    [
      'attach a /keyturn/ policy to a person’s own IAM user',
      'iam:AttachUserPolicy',
      ALICE_USER,
      policyArn(KEYTURN_POLICY),
    ],
    [
      'attach a /keyturn/ policy to a person’s own role, even one carrying the boundary',
      'iam:AttachRolePolicy',
      DAVE_ROLE,
      { ...policyArn(KEYTURN_POLICY), ...withBoundary() },
    ],
    [
      'attach a /keyturn/ policy to its own role',
      'iam:AttachRolePolicy',
      ROLE_ARN,
      { ...policyArn(KEYTURN_POLICY), ...withBoundary() },
    ],
    [
      'attach a /keyturn/ policy to a role on a path that merely starts like the access roles’',
      'iam:AttachRolePolicy',
      iam('role/keyturn/peoplex/admin'),
      { ...policyArn(KEYTURN_POLICY), ...withBoundary() },
    ],
    [
      'attach a /keyturn/ policy to an unmapped user',
      'iam:AttachUserPolicy',
      iam('user/mallory'),
      policyArn(KEYTURN_POLICY),
    ],
    // The boundary, the trust policies and the roles themselves are the deploy's, never the runtime's.
    ['rewrite the boundary', 'iam:CreatePolicyVersion', BOUNDARY, {}],
    ['delete the boundary', 'iam:DeletePolicy', BOUNDARY, {}],
    ['remove an access role’s boundary', 'iam:DeleteRolePermissionsBoundary', ALICE, withBoundary()],
    [
      'replace an access role’s boundary',
      'iam:PutRolePermissionsBoundary',
      ALICE,
      withBoundary(KEYTURN_POLICY),
    ],
    ['change who may assume an access role', 'iam:UpdateAssumeRolePolicy', ALICE, {}],
    [
      'create a role, even with the boundary',
      'iam:CreateRole',
      iam('role/keyturn/people/keyturn-mallory'),
      withBoundary(),
    ],
    ['delete an access role', 'iam:DeleteRole', ALICE, {}],
    ['put an inline policy on an access role', 'iam:PutRolePolicy', ALICE, withBoundary()],
    ['tag an access role for Run As as root', 'iam:TagRole', ALICE, runAs('root')],
    ['tag an access role for Run As without a value', 'iam:TagRole', ALICE, tagKeys('SSMSessionRunAs')],
    ['tag a person’s own role for Run As', 'iam:TagRole', DAVE_ROLE, runAs('pi-ops')],
    ['attach to a group', 'iam:AttachGroupPolicy', iam('group/admins'), policyArn(KEYTURN_POLICY)],
    // Writing any policy outside /keyturn/.
    ['create a policy outside /keyturn/', 'iam:CreatePolicy', iam('policy/admin'), {}],
    [
      'add a version to an AWS managed policy',
      'iam:CreatePolicyVersion',
      'arn:aws:iam::aws:policy/ReadOnlyAccess',
      {},
    ],
    ['add a version to another customer policy', 'iam:CreatePolicyVersion', iam('policy/ops/deploy'), {}],
    ['delete another customer policy', 'iam:DeletePolicy', iam('policy/ops/deploy'), {}],
    ['tag another customer policy', 'iam:TagPolicy', iam('policy/ops/deploy'), {}],
    [
      'detach a policy outside /keyturn/ from anyone',
      'iam:DetachUserPolicy',
      iam('user/bob'),
      policyArn(iam('policy/ops/deploy')),
    ],
    // Other ways to hand out access.
    ['put an inline policy on a user', 'iam:PutUserPolicy', ALICE_USER, {}],
    ['put an inline policy on a role', 'iam:PutRolePolicy', DAVE_ROLE, {}],
    ['put an inline policy on its own role', 'iam:PutRolePolicy', ROLE_ARN, {}],
    ['create an access key', 'iam:CreateAccessKey', ALICE_USER, {}],
    ['create a console password', 'iam:CreateLoginProfile', ALICE_USER, {}],
    ['create a user', 'iam:CreateUser', iam('user/backdoor'), {}],
    ['add a user to a group', 'iam:AddUserToGroup', iam('group/admins'), {}],
    ['change who may assume a role', 'iam:UpdateAssumeRolePolicy', DAVE, {}],
    ['pass a role', 'iam:PassRole', DAVE, {}],
    ['remove a permissions boundary', 'iam:DeleteUserPermissionsBoundary', ALICE_USER, {}],
    ['assume a role', 'sts:AssumeRole', DAVE, {}],
    // Tags other than the Run As key.
    ['tag an access role with another key', 'iam:TagRole', ALICE, tagKeys('Team')],
    [
      'tag Run As together with another key',
      'iam:TagRole',
      ALICE,
      { ...runAs('pi-ops'), ...tagKeys('SSMSessionRunAs', 'Team') },
    ],
    ['tag without naming keys', 'iam:TagRole', ALICE, {}],
    ['untag another key', 'iam:UntagRole', ALICE, tagKeys('Team')],
    ['tag a person’s own user for Run As', 'iam:TagUser', ALICE_USER, runAs('pi-ops')],
    ['tag an unmapped user for Run As', 'iam:TagUser', iam('user/mallory'), tagKeys('SSMSessionRunAs')],
    ['tag its own role for Run As', 'iam:TagRole', ROLE_ARN, tagKeys('SSMSessionRunAs')],
    // Run Command: one document, snippet targets' nodes only.
    [
      'SendCommand with AWS-RunPowerShellScript',
      'ssm:SendCommand',
      awsDocument('AWS-RunPowerShellScript'),
      {},
    ],
    ['SendCommand with AWS-RunRemoteScript', 'ssm:SendCommand', awsDocument('AWS-RunRemoteScript'), {}],
    ['SendCommand with a custom document', 'ssm:SendCommand', ssm('document/Keyturn-Anything'), {}],
    ['SendCommand on a node of another fleet', 'ssm:SendCommand', PI, fleet('ci-runners')],
    ['SendCommand on a node of a target without snippets', 'ssm:SendCommand', EC2, fleet('staging-web')],
    ['SendCommand on an untagged node', 'ssm:SendCommand', PI, {}],
    ['create a document', 'ssm:CreateDocument', ssm('document/Keyturn-Anything'), {}],
    ['start a session itself', 'ssm:StartSession', PI, fleet('prod-raspi')],
    ['read another parameter', 'ssm:GetParameters', ssm('parameter/prod/db-password'), {}],
    ['read another parameter one at a time', 'ssm:GetParameter', ssm('parameter/prod/db-password'), {}],
    ['write its own parameter', 'ssm:PutParameter', ssm('parameter/keyturn/dev/slack-bot-token'), {}],
    // Storage and queue: its own, only.
    ['write another table', 'dynamodb:PutItem', `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/orders`, {}],
    ['delete its table', 'dynamodb:DeleteTable', TABLE, {}],
    ['scan its table', 'dynamodb:Scan', TABLE, {}],
    ['send to another queue', 'sqs:SendMessage', `arn:aws:sqs:${REGION}:${ACCOUNT}:orders`, {}],
    [
      'hide messages of another queue',
      'sqs:ChangeMessageVisibility',
      `arn:aws:sqs:${REGION}:${ACCOUNT}:orders`,
      {},
    ],
    ['purge its queue', 'sqs:PurgeQueue', QUEUE, {}],
  ])('cannot %s', async (_what, action, resource, context) => {
    expect(await decide(action, resource, context)).toBe('ImplicitlyDenied');
  });
});

describe('the access roles and their boundary in the template', () => {
  const accessRoles = Object.entries(template.Resources).filter(([id]) => id.startsWith('AccessRole'));

  it('creates one access role per mapped person, each under /keyturn/people/ with the boundary', () => {
    expect(accessRoles.map(([, r]) => r.Properties.RoleName).sort()).toEqual([
      'keyturn-u0alice',
      'keyturn-u0bob',
      'keyturn-u0carol',
      'keyturn-u0dave',
    ]);
    for (const [, role] of accessRoles) {
      expect(role.Type).toBe('AWS::IAM::Role');
      expect(role.Properties.Path).toBe('/keyturn/people/');
      expect(role.Properties.PermissionsBoundary).toEqual({ Ref: 'KeyturnAccessBoundary' });
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
      expect(role.Properties.Policies).toBeUndefined();
    }
  });

  it('keeps the boundary outside /keyturn/, where the functions may not re-version it', () => {
    const boundary = template.Resources.KeyturnAccessBoundary!;
    expect(boundary.Type).toBe('AWS::IAM::ManagedPolicy');
    expect(boundary.Properties.Path).toBe('/keyturn-boundary/');
    expect(iam(`policy${boundary.Properties.Path}${boundary.Properties.ManagedPolicyName}`)).toBe(BOUNDARY);
  });

  it('lets no grant through an access role exceed the boundary, whatever the role attaches', async () => {
    // The runtime role may attach only /keyturn/ policies to roles that carry this boundary, and may
    // not change the boundary (see "cannot" above): effective access is grant ∩ boundary.
    const boundary = resolveIntrinsics(
      template,
      template.Resources.KeyturnAccessBoundary!.Properties.PolicyDocument,
    );
    const response = await runSimulation(
      {
        request: {
          principal: `arn:aws:sts::${ACCOUNT}:assumed-role/keyturn-u0alice/alice`,
          action: 'iam:AttachRolePolicy',
          resource: { resource: ALICE, accountId: ACCOUNT },
          contextVariables: { 'aws:userid': 'AROAEXAMPLE:alice' },
        },
        identityPolicies: [
          {
            name: 'rogue-grant',
            policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] },
          },
        ],
        permissionBoundaryPolicies: [{ name: 'boundary', policy: boundary }],
        serviceControlPolicies: [],
        resourceControlPolicies: [],
      },
      { simulationMode: 'Strict' },
    );
    expect(response.resultType === 'single' && response.result.analysis.result).toBe('ImplicitlyDenied');
  });
});

describe('the Run Command document statement', () => {
  /** IAM's ARN matching: `*` is any run of characters (empty too), `?` any one character. */
  const arnLike = (pattern: string, arn: string) =>
    new RegExp(
      `^${pattern
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '.*')
        .replace(/\?/g, '.')}$`,
    ).test(arn);

  it('matches the document ARN IAM really uses, and no other AWS-owned document', () => {
    const [pattern] = statements.find((s) => s.Sid === 'RunCommandDocument')!.Resource;
    expect(arnLike(pattern!, `arn:aws:ssm:${REGION}::document/AWS-RunShellScript`)).toBe(true);
    expect(arnLike(pattern!, `arn:aws:ssm:${REGION}::document/AWS-RunPowerShellScript`)).toBe(false);
    expect(arnLike(pattern!, `arn:aws:ssm:us-east-1::document/AWS-RunShellScript`)).toBe(false);
  });
});

describe("the digest scheduler's role", () => {
  it('may invoke the digest function and nothing else', () => {
    const schedulerRole = template.Resources.DigestSchedulerRole!;
    expect(resolveIntrinsics(template, schedulerRole.Properties)).toEqual({
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { Service: 'scheduler.amazonaws.com' },
            Action: 'sts:AssumeRole',
            Condition: { StringEquals: { 'aws:SourceAccount': ACCOUNT } },
          },
        ],
      },
      Policies: [
        {
          PolicyName: 'invoke-digest',
          PolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              {
                Effect: 'Allow',
                Action: 'lambda:InvokeFunction',
                Resource: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:keyturn-dev-digest`,
              },
            ],
          },
        },
      ],
    });
  });
});
