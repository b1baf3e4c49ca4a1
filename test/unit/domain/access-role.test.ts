import { runSimulation } from '@cloud-copilot/iam-simulate';
import { renderBoundary } from '../../../src/domain/boundary';
import {
  accessRoleArn,
  accessRoleName,
  accessRoleSessionOwner,
  type Identity,
  personPrincipal,
  trustPolicy,
} from '../../../src/domain/person';
import { renderGrantPolicy } from '../../../src/domain/policy';
import type { PolicyDocument } from '../../../src/domain/policy-document';
import type { Target } from '../../../src/domain/target';
import { type AwsAccount, assumedRoleArn, iamRoleArn, iamUserArn } from '../../../src/domain/principal';

// What an access role means to IAM, checked with an offline IAM evaluator: who may assume it (its
// trust policy, evaluated as the role's resource policy), and what its boundary leaves of a grant.

const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';
const AWS: AwsAccount & { region: string } = { partition: 'aws', accountId: ACCOUNT, region: REGION };
const NOW = '2026-11-03T10:30:00Z';

type Outcome = 'Allowed' | 'ImplicitlyDenied' | 'ExplicitlyDenied' | `error: ${string}`;

interface Caller {
  arn: string;
  /** The request context IAM fills in from the caller's credentials. */
  context: Record<string, string>;
  /** The caller's own identity policies (an SSO permission set must allow sts:AssumeRole itself). */
  identity?: PolicyDocument;
}

const ALLOW_ASSUME_ACCESS_ROLES: PolicyDocument = {
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Action: 'sts:AssumeRole',
      Resource: `arn:aws:iam::${ACCOUNT}:role/keyturn/people/*`,
    },
  ],
};

/** sts:AssumeRole of `roleArn` by `caller`, choosing `sessionName`, against the role's trust policy. */
async function assume(
  identity: Identity,
  slackUser: string,
  caller: Caller,
  sessionName: string,
  extra: Record<string, string | string[]> = {},
): Promise<Outcome> {
  const response = await runSimulation(
    {
      request: {
        principal: caller.arn,
        action: 'sts:AssumeRole',
        resource: { resource: accessRoleArn(AWS, { user: slackUser }), accountId: ACCOUNT },
        contextVariables: {
          'aws:CurrentTime': NOW,
          'sts:RoleSessionName': sessionName,
          ...caller.context,
          ...extra,
        },
      },
      identityPolicies: [{ name: 'own', policy: caller.identity ?? ALLOW_ASSUME_ACCESS_ROLES }],
      resourcePolicy: trustPolicy(AWS, identity),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    },
    { simulationMode: 'Strict' },
  );
  if (response.resultType === 'error') return `error: ${response.errors.message}`;
  return response.overallResult as Outcome;
}

const iamUser = (name: string, path = '/'): Caller => ({
  arn: iamUserArn(AWS, name, path),
  context: {
    'aws:PrincipalArn': iamUserArn(AWS, name, path),
    'aws:username': name,
    'aws:userid': `AIDA${name.toUpperCase().replace(/[^A-Z]/g, '')}00000000001`,
    'aws:PrincipalAccount': ACCOUNT,
  },
});

/** An Identity Center user's session: their AWSReservedSSO_* role, session name = their user name. */
const ssoUser = (userName: string, permissionSet = 'AWSReservedSSO_Engineer_0123456789abcdef'): Caller => ({
  arn: assumedRoleArn(AWS, permissionSet, userName),
  context: {
    'aws:PrincipalArn': iamRoleArn(AWS, permissionSet, `/aws-reserved/sso.amazonaws.com/${REGION}/`),
    'aws:userid': `AROASSOENGINEER000001:${userName}`,
    'aws:PrincipalAccount': ACCOUNT,
  },
});

const roleSession = (role: string, sessionName: string): Caller => ({
  arn: assumedRoleArn(AWS, role, sessionName),
  context: {
    'aws:PrincipalArn': iamRoleArn(AWS, role),
    'aws:userid': `AROA${role.toUpperCase().replace(/[^A-Z]/g, '')}00001:${sessionName}`,
    'aws:PrincipalAccount': ACCOUNT,
  },
});

/** The same session of a role that lives under a path (its ARN carries it; the session's does not). */
const withPrincipalArn = (caller: Caller, principalArn: string): Caller => ({
  ...caller,
  context: { ...caller.context, 'aws:PrincipalArn': principalArn },
});

const ALICE: Identity = { kind: 'iam-user', name: 'alice', path: '/' };
const ERIN: Identity = { kind: 'iam-user', name: 'erin', path: '/engineering/' };
const CAROL: Identity = { kind: 'identity-center', userName: 'carol@example.com' };
const DAVE: Identity = { kind: 'iam-role', name: 'oncall', sessionName: 'dave' };

describe('access role names and session owners', () => {
  it('are deterministic, under /keyturn/people/, and carry the partition', () => {
    expect(accessRoleName('U0ALICE')).toBe('keyturn-u0alice');
    expect(accessRoleArn(AWS, { user: 'U0ALICE' })).toBe(
      'arn:aws:iam::123456789012:role/keyturn/people/keyturn-u0alice',
    );
    expect(accessRoleArn({ partition: 'aws-cn', accountId: ACCOUNT }, { user: 'U0ALICE' })).toBe(
      'arn:aws-cn:iam::123456789012:role/keyturn/people/keyturn-u0alice',
    );
    // An assumed-role ARN carries no role path (FACTS.md), so the Owner is not the role ARN's shape.
    expect(accessRoleSessionOwner(AWS, { user: 'U0CAROL', identity: CAROL })).toBe(
      'arn:aws:sts::123456789012:assumed-role/keyturn-u0carol/carol@example.com',
    );
    expect(personPrincipal({ user: 'U0DAVE', identity: DAVE, attach: 'access-role' })).toEqual({
      kind: 'access-role',
      name: 'keyturn-u0dave',
      sessionName: 'dave',
    });
  });

  it('never lets the trust policy allow sts:TagSession, so no session tag can override the Run As tag', () => {
    for (const identity of [ALICE, ERIN, CAROL, DAVE]) {
      const trust = trustPolicy(AWS, identity);
      expect(trust.Statement.map((s) => s.Action)).toEqual(['sts:AssumeRole']);
      expect(JSON.stringify(trust)).not.toContain('TagSession');
    }
  });
});

describe('who may assume an access role (its trust policy, evaluated)', () => {
  it.each<[string, Identity, string, Caller, string, Outcome]>([
    ['alice assumes hers', ALICE, 'U0ALICE', iamUser('alice'), 'alice', 'Allowed'],
    ['bob assumes alice’s', ALICE, 'U0ALICE', iamUser('bob'), 'alice', 'ImplicitlyDenied'],
    ['alice-admin assumes alice’s', ALICE, 'U0ALICE', iamUser('alice-admin'), 'alice', 'ImplicitlyDenied'],
    [
      'alice with another session name (Owner would not be exact)',
      ALICE,
      'U0ALICE',
      iamUser('alice'),
      'root',
      'ImplicitlyDenied',
    ],
    [
      'erin (user with a path) assumes hers',
      ERIN,
      'U0ERIN',
      iamUser('erin', '/engineering/'),
      'erin',
      'Allowed',
    ],
    [
      'another erin on another path',
      ERIN,
      'U0ERIN',
      iamUser('erin', '/contractors/'),
      'erin',
      'ImplicitlyDenied',
    ],
    [
      'carol through her Identity Center session',
      CAROL,
      'U0CAROL',
      ssoUser('carol@example.com'),
      'carol@example.com',
      'Allowed',
    ],
    [
      'carol through another permission set',
      CAROL,
      'U0CAROL',
      ssoUser('carol@example.com', 'AWSReservedSSO_ReadOnly_fedcba9876543210'),
      'carol@example.com',
      'Allowed',
    ],
    [
      'another SSO user, naming carol’s session',
      CAROL,
      'U0CAROL',
      ssoUser('mallory@example.com'),
      'carol@example.com',
      'ImplicitlyDenied',
    ],
    [
      'a non-SSO role whose session is named like carol',
      CAROL,
      'U0CAROL',
      roleSession('ci-deployer', 'carol@example.com'),
      'carol@example.com',
      'ImplicitlyDenied',
    ],
    ['dave through the shared oncall role', DAVE, 'U0DAVE', roleSession('oncall', 'dave'), 'dave', 'Allowed'],
    [
      'erin through the same oncall role, into dave’s',
      DAVE,
      'U0DAVE',
      roleSession('oncall', 'erin'),
      'dave',
      'ImplicitlyDenied',
    ],
    [
      'dave’s session name from another role',
      DAVE,
      'U0DAVE',
      roleSession('ci-deployer', 'dave'),
      'dave',
      'ImplicitlyDenied',
    ],
    [
      'a role with a path, trusted by its ARN with the path',
      { kind: 'iam-role', name: 'oncall', path: '/service/', sessionName: 'dave' },
      'U0DAVE',
      withPrincipalArn(roleSession('oncall', 'dave'), iamRoleArn(AWS, 'oncall', '/service/')),
      'dave',
      'Allowed',
    ],
  ])('%s', async (_case, identity, slackUser, caller, sessionName, expected) => {
    expect(await assume(identity, slackUser, caller, sessionName)).toBe(expected);
  });
});

describe('the boundary caps whatever is attached', () => {
  const targets: Pick<Target, 'tags' | 'documents'>[] = [
    { tags: { Fleet: 'prod-raspi' }, documents: ['shell', 'ssh'] },
    { tags: { Fleet: 'staging-web', Env: 'staging' }, documents: ['port-forward'] },
  ];
  const boundary = (() => {
    const rendered = renderBoundary(AWS, targets);
    if (!rendered.ok) throw new Error('boundary did not render');
    return rendered.value;
  })();
  const EVERYTHING: PolicyDocument = {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
  };
  const alice = assumedRoleArn(AWS, 'keyturn-u0alice', 'alice');
  const ALICE_ID = 'AROAKEYTURNALICE0001:alice';

  /** Effective permission = identity policies ∩ permissions boundary: iam-simulate evaluates both. */
  async function decide(
    grant: PolicyDocument,
    action: string,
    resource: string,
    context: Record<string, string> = {},
  ): Promise<Outcome> {
    const response = await runSimulation(
      {
        request: {
          principal: alice,
          action,
          resource: { resource, accountId: resource.split(':')[4] || ACCOUNT },
          contextVariables: { 'aws:CurrentTime': NOW, 'aws:userid': ALICE_ID, ...context },
        },
        identityPolicies: [{ name: 'grant', policy: grant }],
        permissionBoundaryPolicies: [{ name: 'keyturn-access-boundary', policy: boundary }],
        serviceControlPolicies: [],
        resourceControlPolicies: [],
      },
      { simulationMode: 'Strict' },
    );
    if (response.resultType === 'error') return `error: ${response.errors.message}`;
    return response.overallResult as Outcome;
  }

  const PI = `arn:aws:ssm:${REGION}:${ACCOUNT}:managed-instance/mi-0a1b2c3d4e5f60718`;
  const raspiTags = { 'ssm:resourceTag/Fleet': 'prod-raspi' };

  it.each<[string, string, string, Record<string, string>, Outcome]>([
    ['Session Manager on a configured target’s node', 'ssm:StartSession', PI, raspiTags, 'Allowed'],
    [
      'a node of no configured target',
      'ssm:StartSession',
      PI,
      { 'ssm:resourceTag/Fleet': 'payments' },
      'ImplicitlyDenied',
    ],
    [
      'only one tag of a two-tag target',
      'ssm:StartSession',
      PI,
      { 'ssm:resourceTag/Fleet': 'staging-web' },
      'ImplicitlyDenied',
    ],
    ['IAM', 'iam:CreateUser', `arn:aws:iam::${ACCOUNT}:user/mallory`, {}, 'ImplicitlyDenied'],
    [
      'attaching AdministratorAccess to itself',
      'iam:AttachRolePolicy',
      `arn:aws:iam::${ACCOUNT}:role/keyturn/people/keyturn-u0alice`,
      {},
      'ImplicitlyDenied',
    ],
    ['S3', 's3:GetObject', 'arn:aws:s3:::payroll/2026.csv', {}, 'ImplicitlyDenied'],
    ['Run Command', 'ssm:SendCommand', PI, raspiTags, 'ImplicitlyDenied'],
    [
      'a document no target permits',
      'ssm:StartSession',
      `arn:aws:ssm:${REGION}:${ACCOUNT}:document/AWS-RunShellScript`,
      {},
      'ImplicitlyDenied',
    ],
    [
      'a permitted document',
      'ssm:StartSession',
      `arn:aws:ssm:${REGION}:${ACCOUNT}:document/AWS-StartPortForwardingSession`,
      {},
      'Allowed',
    ],
    [
      'terminating somebody else’s session',
      'ssm:TerminateSession',
      `arn:aws:ssm:${REGION}:${ACCOUNT}:session/bob-0a1b2c3d4e5f60718`,
      { 'ssm:resourceTag/aws:ssmmessages:session-id': 'AROAKEYTURNBOB000001:bob' },
      'ImplicitlyDenied',
    ],
    [
      'terminating its own session',
      'ssm:TerminateSession',
      `arn:aws:ssm:${REGION}:${ACCOUNT}:session/alice-0a1b2c3d4e5f60718`,
      { 'ssm:resourceTag/aws:ssmmessages:session-id': ALICE_ID },
      'Allowed',
    ],
  ])(
    'a *:* grant policy still gives no more than the boundary: %s',
    async (_case, action, resource, context, expected) => {
      expect(await decide(EVERYTHING, action, resource, context)).toBe(expected);
    },
  );

  it('lets a real grant through, inside its window only', async () => {
    const grant = renderGrantPolicy({
      ...AWS,
      target: targets[0]!,
      startsAt: '2026-11-03T10:00:00Z',
      expiresAt: '2026-11-03T11:00:00Z',
    });
    if (!grant.ok) throw new Error('grant did not render');
    expect(await decide(grant.value, 'ssm:StartSession', PI, raspiTags)).toBe('Allowed');
    expect(
      await decide(grant.value, 'ssm:StartSession', PI, {
        ...raspiTags,
        'aws:CurrentTime': '2026-11-03T11:00:01Z',
      }),
    ).toBe('ImplicitlyDenied');
  });

  it('stays within IAM’s managed-policy size, and refuses to render past it', () => {
    const many = Array.from({ length: 60 }, (_, i) => ({
      tags: { Fleet: `fleet-${i}` },
      documents: ['shell' as const],
    }));
    const rendered = renderBoundary(AWS, many);
    expect(rendered).toMatchObject({ ok: false, error: { reason: 'too-large', limit: 6144 } });
  });
});
