import { type EvaluationResult, runSimulation } from '@cloud-copilot/iam-simulate';
import { ACCOUNT, REGION, resolveIntrinsics } from './intrinsics';
import { readTemplate } from './stack-files';

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
const ALICE = iam('user/alice');
const DAVE = iam('role/oncall-dave');
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

type Decision = EvaluationResult | `error: ${string}`;

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
  if (response.resultType === 'error') return `error: ${response.errors.message}`;
  if (response.resultType !== 'single') return `error: unexpected ${response.resultType} result`;
  return response.result.analysis.result;
}

const policyArn = (arn: string) => ({ 'iam:PolicyARN': arn });
const tagKeys = (...keys: string[]) => ({ 'aws:TagKeys': keys });
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
    const mapped = (kind: 'user' | 'role', names: string[]) =>
      names.flatMap((n) => [iam(`${kind}/${n}`), iam(`${kind}/*/${n}`)]);
    const users = mapped('user', ['alice', 'bob', 'carol']);
    const roles = mapped('role', ['oncall-dave']);
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
        Sid: 'AttachKeyturnPoliciesToMappedUsers',
        Effect: 'Allow',
        Action: ['iam:AttachUserPolicy'],
        Resource: users,
        Condition: onlyKeyturnPolicies,
      },
      {
        Sid: 'AttachKeyturnPoliciesToMappedRoles',
        Effect: 'Allow',
        Action: ['iam:AttachRolePolicy'],
        Resource: roles,
        Condition: onlyKeyturnPolicies,
      },
      {
        Sid: 'DetachKeyturnPolicies',
        Effect: 'Allow',
        Action: ['iam:DetachUserPolicy', 'iam:DetachRolePolicy', 'iam:DetachGroupPolicy'],
        Resource: [iam('user/*'), iam('role/*'), iam('group/*')],
        Condition: onlyKeyturnPolicies,
      },
      {
        Sid: 'RunAsTagOnMappedUsers',
        Effect: 'Allow',
        Action: ['iam:TagUser', 'iam:UntagUser'],
        Resource: users,
        Condition: onlyRunAsTag,
      },
      {
        Sid: 'RunAsTagOnMappedRoles',
        Effect: 'Allow',
        Action: ['iam:TagRole', 'iam:UntagRole'],
        Resource: roles,
        Condition: onlyRunAsTag,
      },
      {
        Sid: 'ReadMappedPrincipals',
        Effect: 'Allow',
        Action: [
          'iam:SimulatePrincipalPolicy',
          'iam:ListAttachedUserPolicies',
          'iam:ListAttachedRolePolicies',
        ],
        Resource: [...users, ...roles],
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
      {
        Sid: 'ReadSlackSecrets',
        Effect: 'Allow',
        Action: ['ssm:GetParameter'],
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
    ['attach it to a mapped IAM user', 'iam:AttachUserPolicy', ALICE, policyArn(KEYTURN_POLICY)],
    ['attach it to a mapped IAM role', 'iam:AttachRolePolicy', DAVE, policyArn(KEYTURN_POLICY)],
    ['detach it from a mapped user', 'iam:DetachUserPolicy', ALICE, policyArn(KEYTURN_POLICY)],
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
    ['tag a mapped user for Run As', 'iam:TagUser', ALICE, tagKeys('SSMSessionRunAs')],
    ['untag a mapped role for Run As', 'iam:UntagRole', DAVE, tagKeys('SSMSessionRunAs')],
    ['check a mapped user with the policy simulator', 'iam:SimulatePrincipalPolicy', ALICE, {}],
    ['count a mapped user’s attached policies', 'iam:ListAttachedUserPolicies', ALICE, {}],
    ['read the account’s quotas', 'iam:GetAccountSummary', '*', {}],
    ['run AWS-RunShellScript', 'ssm:SendCommand', RUN_SHELL, {}],
    ['… on a Raspberry Pi of a snippet target', 'ssm:SendCommand', PI, fleet('prod-raspi')],
    ['… on an EC2 instance of a snippet target', 'ssm:SendCommand', EC2, fleet('prod-raspi')],
    ['end an open session', 'ssm:TerminateSession', ssm('session/alice-0a1b2c3d4e5f60718'), {}],
    ['read the bot token parameter', 'ssm:GetParameter', ssm('parameter/keyturn/dev/slack-bot-token'), {}],
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
      'attach AdministratorAccess to a mapped user',
      'iam:AttachUserPolicy',
      ALICE,
      policyArn('arn:aws:iam::aws:policy/AdministratorAccess'),
    ],
    [
      'attach AdministratorAccess to a mapped role',
      'iam:AttachRolePolicy',
      DAVE,
      policyArn('arn:aws:iam::aws:policy/AdministratorAccess'),
    ],
    [
      'attach a customer policy outside /keyturn/',
      'iam:AttachUserPolicy',
      ALICE,
      policyArn(iam('policy/ops/break-glass')),
    ],
    [
      'attach a policy whose name merely starts with keyturn',
      'iam:AttachUserPolicy',
      ALICE,
      policyArn(iam('policy/keyturn-admin')),
    ],
    [
      'attach a /keyturn/ policy from another account',
      'iam:AttachUserPolicy',
      ALICE,
      policyArn('arn:aws:iam::999988887777:policy/keyturn/x'),
    ],
    ['attach without saying which policy', 'iam:AttachUserPolicy', ALICE, {}],
    // Attaching even a /keyturn/ policy to anyone not mapped, least of all itself.
    [
      'attach a /keyturn/ policy to its own role',
      'iam:AttachRolePolicy',
      ROLE_ARN,
      policyArn(KEYTURN_POLICY),
    ],
    [
      'attach a /keyturn/ policy to an unmapped user',
      'iam:AttachUserPolicy',
      iam('user/mallory'),
      policyArn(KEYTURN_POLICY),
    ],
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
    ['put an inline policy on a user', 'iam:PutUserPolicy', ALICE, {}],
    ['put an inline policy on a role', 'iam:PutRolePolicy', DAVE, {}],
    ['put an inline policy on its own role', 'iam:PutRolePolicy', ROLE_ARN, {}],
    ['create an access key', 'iam:CreateAccessKey', ALICE, {}],
    ['create a console password', 'iam:CreateLoginProfile', ALICE, {}],
    ['create a user', 'iam:CreateUser', iam('user/backdoor'), {}],
    ['add a user to a group', 'iam:AddUserToGroup', iam('group/admins'), {}],
    ['change who may assume a role', 'iam:UpdateAssumeRolePolicy', DAVE, {}],
    ['pass a role', 'iam:PassRole', DAVE, {}],
    ['remove a permissions boundary', 'iam:DeleteUserPermissionsBoundary', ALICE, {}],
    ['assume a role', 'sts:AssumeRole', DAVE, {}],
    // Tags other than the Run As key.
    ['tag a user with another key', 'iam:TagUser', ALICE, tagKeys('Team')],
    ['tag Run As together with another key', 'iam:TagUser', ALICE, tagKeys('SSMSessionRunAs', 'Team')],
    ['tag without naming keys', 'iam:TagUser', ALICE, {}],
    ['untag another key', 'iam:UntagUser', ALICE, tagKeys('Team')],
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
    ['read another parameter', 'ssm:GetParameter', ssm('parameter/prod/db-password'), {}],
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
