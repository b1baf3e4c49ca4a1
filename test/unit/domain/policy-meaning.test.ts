import { type EvaluationResult, runSimulation } from '@cloud-copilot/iam-simulate';
import { nodeArn } from '../../../src/domain/node';
import { renderGrantPolicy } from '../../../src/domain/policy';
import type { PolicyDocument } from '../../../src/domain/policy-document';
import { type Principal, principalArn } from '../../../src/domain/principal';

// What the rendered policy means to IAM, checked with an offline IAM evaluator rather than by reading JSON.

const ACCOUNT = '123456789012';
const OTHER_ACCOUNT = '210987654321';
const REGION = 'eu-west-1';
const START = '2026-11-03T10:00:00Z';
const EXPIRY = '2026-11-03T11:00:00Z';
const DURING = '2026-11-03T10:30:00Z';

const PI = nodeArn(REGION, ACCOUNT, 'mi-0a1b2c3d4e5f60718');
const EC2 = nodeArn(REGION, ACCOUNT, 'i-0a1b2c3d4e5f60718');
const doc = (name: string, region = REGION) => `arn:aws:ssm:${region}:${ACCOUNT}:document/${name}`;
const session = (id: string) => `arn:aws:ssm:${REGION}:${ACCOUNT}:session/${id}`;

interface Caller {
  arn: string;
  /** Request context IAM fills in from the caller's credentials; the simulator needs it spelled out. */
  context: Record<string, string>;
}

const alice: Caller = {
  arn: principalArn(ACCOUNT, { kind: 'user', name: 'alice' }),
  context: { 'aws:username': 'alice', 'aws:userid': 'AIDAEXAMPLEALICE0001' },
};
// A role session: no aws:username; aws:userid is `<role id>:<session name>`.
const opsAlice: Caller = {
  arn: `arn:aws:sts::${ACCOUNT}:assumed-role/ops-oncall/alice`,
  context: { 'aws:userid': 'AROAEXAMPLEOPS000001:alice' },
};

function policyFor(principal: Principal): PolicyDocument {
  const result = renderGrantPolicy({
    accountId: ACCOUNT,
    region: REGION,
    principal,
    target: { tags: { Fleet: 'prod-raspi', Env: 'prod' }, documents: ['shell', 'ssh'] },
    startsAt: START,
    expiresAt: EXPIRY,
  });
  if (!result.ok) throw new Error(`policy did not render: ${JSON.stringify(result.error)}`);
  return result.value;
}

const userPolicy = policyFor({ kind: 'user', name: 'alice' });
const rolePolicy = policyFor({ kind: 'role', name: 'ops-oncall' });

type Decision = EvaluationResult | `error: ${string}`;

/** One IAM decision for one request, against the grant policy as the caller's only identity policy. */
async function decide(
  policy: PolicyDocument,
  caller: Caller,
  action: string,
  resource: string,
  context: Record<string, string> = {},
): Promise<Decision> {
  const resourceAccount = resource.split(':')[4] || ACCOUNT;
  const response = await runSimulation(
    {
      request: {
        principal: caller.arn,
        action,
        resource: { resource, accountId: resourceAccount },
        contextVariables: { 'aws:CurrentTime': DURING, ...caller.context, ...context },
      },
      identityPolicies: [{ name: 'keyturn-grant', policy }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    },
    // Strict: every context key is taken as given, so a missing tag really is missing.
    { simulationMode: 'Strict' },
  );
  if (response.resultType === 'error') return `error: ${response.errors.message}`;
  return response.overallResult;
}

const tags = (t: Record<string, string>) =>
  Object.fromEntries(Object.entries(t).map(([k, v]) => [`ssm:resourceTag/${k}`, v]));
const RIGHT_TAGS = tags({ Fleet: 'prod-raspi', Env: 'prod' });
const at = (time: string) => ({ 'aws:CurrentTime': time });

describe('StartSession under a grant for {Fleet: prod-raspi, Env: prod}, 10:00:00Z–11:00:00Z, shell+ssh', () => {
  it.each<[string, string, Record<string, string>, Decision]>([
    ['a tagged Raspberry Pi (mi-) inside the window', PI, RIGHT_TAGS, 'Allowed'],
    ['a tagged EC2 instance (i-) inside the window', EC2, RIGHT_TAGS, 'Allowed'],
    // The node statement carries the document check too; it must not lock out the node itself.
    [
      'a tagged node when Session Manager asks for the document check',
      PI,
      { ...RIGHT_TAGS, 'ssm:SessionDocumentAccessCheck': 'true' },
      'Allowed',
    ],
    // DateGreaterThanEquals: usable from the approval second itself, so the readiness check passes at once.
    ['a node exactly at the start', PI, { ...RIGHT_TAGS, ...at(START) }, 'Allowed'],
    ['a node one second after the start', PI, { ...RIGHT_TAGS, ...at('2026-11-03T10:00:01Z') }, 'Allowed'],
    ['a node one second before the expiry', PI, { ...RIGHT_TAGS, ...at('2026-11-03T10:59:59Z') }, 'Allowed'],
    ['the shell document', doc('SSM-SessionManagerRunShell'), {}, 'Allowed'],
    ['the SSH document', doc('AWS-StartSSHSession'), {}, 'Allowed'],

    ['a node with a wrong tag value', PI, tags({ Fleet: 'prod-raspi', Env: 'staging' }), 'ImplicitlyDenied'],
    [
      'a node whose tag value differs only in case',
      PI,
      tags({ Fleet: 'prod-raspi', Env: 'Prod' }),
      'ImplicitlyDenied',
    ],
    ['a node without tags', PI, {}, 'ImplicitlyDenied'],
    ['a node with one of the two tags', EC2, tags({ Fleet: 'prod-raspi' }), 'ImplicitlyDenied'],
    [
      'a node one second after expiry',
      PI,
      { ...RIGHT_TAGS, ...at('2026-11-03T11:00:01Z') },
      'ImplicitlyDenied',
    ],
    [
      'a node exactly at expiry (DateLessThan is strict)',
      PI,
      { ...RIGHT_TAGS, ...at(EXPIRY) },
      'ImplicitlyDenied',
    ],
    [
      'a node one second before the start',
      PI,
      { ...RIGHT_TAGS, ...at('2026-11-03T09:59:59Z') },
      'ImplicitlyDenied',
    ],
    [
      'a node in another region',
      nodeArn('us-east-1', ACCOUNT, 'mi-0a1b2c3d4e5f60718'),
      RIGHT_TAGS,
      'ImplicitlyDenied',
    ],
    [
      'a node in another account',
      nodeArn(REGION, OTHER_ACCOUNT, 'i-0a1b2c3d4e5f60718'),
      RIGHT_TAGS,
      'ImplicitlyDenied',
    ],
    [
      'a node when the document check is off (the caller may not fall back to an ungranted shell)',
      PI,
      { ...RIGHT_TAGS, 'ssm:SessionDocumentAccessCheck': 'false' },
      'ImplicitlyDenied',
    ],
    [
      'the port-forwarding document, which the target does not allow',
      doc('AWS-StartPortForwardingSession'),
      {},
      'ImplicitlyDenied',
    ],
    [
      'a permitted document in another region',
      doc('AWS-StartSSHSession', 'us-east-1'),
      {},
      'ImplicitlyDenied',
    ],
    [
      'a permitted document after expiry',
      doc('AWS-StartSSHSession'),
      at('2026-11-03T11:00:01Z'),
      'ImplicitlyDenied',
    ],
  ])('%s', async (_case, resource, context, expected) => {
    expect(await decide(userPolicy, alice, 'ssm:StartSession', resource, context)).toBe(expected);
  });

  it('means the same for a role as for a user', async () => {
    expect(await decide(rolePolicy, opsAlice, 'ssm:StartSession', PI, RIGHT_TAGS)).toBe('Allowed');
    expect(await decide(rolePolicy, opsAlice, 'ssm:StartSession', PI, tags({ Fleet: 'prod-raspi' }))).toBe(
      'ImplicitlyDenied',
    );
  });
});

describe('own sessions', () => {
  it.each<[string, PolicyDocument, Caller, string, string, Record<string, string>, Decision]>([
    [
      'user ends her own session',
      userPolicy,
      alice,
      'ssm:TerminateSession',
      session('alice-0a1b2c3d4e5f60718'),
      {},
      'Allowed',
    ],
    [
      'user resumes her own session',
      userPolicy,
      alice,
      'ssm:ResumeSession',
      session('alice-0a1b2c3d4e5f60718'),
      {},
      'Allowed',
    ],
    [
      'user ends somebody else’s session',
      userPolicy,
      alice,
      'ssm:TerminateSession',
      session('bob-0a1b2c3d4e5f60718'),
      {},
      'ImplicitlyDenied',
    ],
    [
      'user ends her own session after expiry',
      userPolicy,
      alice,
      'ssm:TerminateSession',
      session('alice-0a1b2c3d4e5f60718'),
      at('2026-11-03T11:00:01Z'),
      'ImplicitlyDenied',
    ],
    [
      'role ends its own session',
      rolePolicy,
      opsAlice,
      'ssm:TerminateSession',
      session('AROAEXAMPLEOPS000001:alice-0a1b2c3d4e5f60718'),
      {},
      'Allowed',
    ],
    [
      'role ends another session of the same role',
      rolePolicy,
      opsAlice,
      'ssm:TerminateSession',
      session('AROAEXAMPLEOPS000001:bob-0a1b2c3d4e5f60718'),
      {},
      'ImplicitlyDenied',
    ],
    // The user form of the policy grants a role nothing: roles carry no aws:username to match.
    [
      'role under a user-shaped policy',
      userPolicy,
      opsAlice,
      'ssm:TerminateSession',
      session('alice-0a1b2c3d4e5f60718'),
      {},
      'ImplicitlyDenied',
    ],
    // iam-data lists OpenDataChannel as wildcard-only; at least it is not granted on every session.
    [
      'data channels on every session',
      userPolicy,
      alice,
      'ssmmessages:OpenDataChannel',
      '*',
      {},
      'ImplicitlyDenied',
    ],
  ])('%s', async (_case, policy, caller, action, resource, context, expected) => {
    expect(await decide(policy, caller, action, resource, context)).toBe(expected);
  });
});

describe('everything else', () => {
  it.each<[string, string, string, Record<string, string>, Decision]>([
    ['lists managed nodes', 'ssm:DescribeInstanceInformation', '*', {}, 'Allowed'],
    ['lists sessions', 'ssm:DescribeSessions', '*', {}, 'Allowed'],
    ['describes EC2 instances', 'ec2:DescribeInstances', '*', {}, 'Allowed'],
    ['checks a node’s connection status', 'ssm:GetConnectionStatus', PI, {}, 'Allowed'],
    [
      'lists managed nodes after expiry',
      'ssm:DescribeInstanceInformation',
      '*',
      at('2026-11-03T11:00:01Z'),
      'ImplicitlyDenied',
    ],
    ['runs a command on a granted node', 'ssm:SendCommand', PI, RIGHT_TAGS, 'ImplicitlyDenied'],
    ['runs AWS-RunShellScript', 'ssm:SendCommand', doc('AWS-RunShellScript'), {}, 'ImplicitlyDenied'],
    ['creates an IAM user', 'iam:CreateUser', `arn:aws:iam::${ACCOUNT}:user/mallory`, {}, 'ImplicitlyDenied'],
    [
      'attaches a policy to herself',
      'iam:AttachUserPolicy',
      `arn:aws:iam::${ACCOUNT}:user/alice`,
      {},
      'ImplicitlyDenied',
    ],
    [
      'extends her own grant',
      'iam:CreatePolicyVersion',
      `arn:aws:iam::${ACCOUNT}:policy/keyturn/keyturn-01JC2Z8K3M`,
      {},
      'ImplicitlyDenied',
    ],
  ])('%s', async (_case, action, resource, context, expected) => {
    expect(await decide(userPolicy, alice, action, resource, context)).toBe(expected);
  });
});
