import { type EvaluationResult, runSimulation } from '@cloud-copilot/iam-simulate';
import { renderBoundary } from '../../../src/domain/boundary';
import { nodeArn } from '../../../src/domain/node';
import { accessRoleSessionOwner } from '../../../src/domain/person';
import { renderGrantPolicy } from '../../../src/domain/policy';
import type { PolicyDocument } from '../../../src/domain/policy-document';
import type { AwsAccount } from '../../../src/domain/principal';
import { FACTORY, HOME, osakaRaspi } from '../../support/org-config';

/*
 * Issue 14, evaluated rather than read: a grant policy and a permissions boundary rendered for a
 * target in account B (the factory account, Osaka) reach B's tagged nodes in B's region, inside the
 * window, and nothing in account A (Keyturn's own) with the same tags in the same region, nor in B's
 * other region. "Nothing in A" is checked two ways: B's access role asking for A's resources, and the
 * same documents held by a principal in A itself, so the answer is never just the evaluator's
 * cross-account rule: the documents name no resource of A. (`ssmmessages:OpenDataChannel` takes no
 * resource the evaluator knows; it needs the session's token, which only StartSession in B hands out.)
 */

const REGION = osakaRaspi.region;
const OTHER_REGION = 'eu-central-1';
const START = '2026-11-03T10:00:00Z';
const EXPIRY = '2026-11-03T11:00:00Z';
const DURING = '2026-11-03T10:30:00Z';
const AFTER = '2026-11-03T11:00:01Z';

const B: AwsAccount = { partition: 'aws', accountId: FACTORY };
const A: AwsAccount = { partition: 'aws', accountId: HOME };
const alice = { user: 'U0ALICE', identity: { kind: 'iam-user' as const, name: 'alice', path: '/' } };

interface Caller {
  arn: string;
  context: Record<string, string>;
}
/** Alice through her access role in B, and through hers in A. */
const aliceInB: Caller = {
  arn: accessRoleSessionOwner(B, alice),
  context: { 'aws:userid': 'AROAFACTORYALICE0001:alice' },
};
const aliceInA: Caller = {
  arn: accessRoleSessionOwner(A, alice),
  context: { 'aws:userid': 'AROAHOMEALICE0000001:alice' },
};

const TAGS = { 'ssm:resourceTag/Fleet': 'osaka-raspi' };
const node = (account: AwsAccount, region: string, id = 'mi-0a1b2c3d4e5f60718') =>
  nodeArn({ ...account, region }, id);
const documentArn = (region: string) =>
  `arn:aws:ssm:${region}:${FACTORY}:document/SSM-SessionManagerRunShell`;
const sessionArn = (account: AwsAccount, region: string) =>
  `arn:aws:ssm:${region}:${account.accountId}:session/alice-0a1b2c3d4e5f6a7b8`;

function grantPolicy(account: AwsAccount): PolicyDocument {
  const rendered = renderGrantPolicy({
    accountId: account.accountId,
    region: REGION,
    target: osakaRaspi,
    startsAt: START,
    expiresAt: EXPIRY,
  });
  if (!rendered.ok) throw new Error('grant policy did not render');
  return rendered.value;
}

function boundary(account: AwsAccount): PolicyDocument {
  // The boundary of B's access roles covers B's targets; here the Osaka line, in its own region.
  const rendered = renderBoundary({ ...account, region: REGION }, [osakaRaspi]);
  if (!rendered.ok) throw new Error('boundary did not render');
  return rendered.value;
}

const EVERYTHING: PolicyDocument = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
};

async function decide(
  caller: Caller,
  policies: { identity: PolicyDocument; boundary?: PolicyDocument },
  action: string,
  resource: string,
  context: Record<string, string> = {},
): Promise<EvaluationResult | string> {
  const response = await runSimulation(
    {
      request: {
        principal: caller.arn,
        action,
        resource: { resource, accountId: resource.split(':')[4] || caller.arn.split(':')[4]! },
        contextVariables: { 'aws:CurrentTime': DURING, ...caller.context, ...context },
      },
      identityPolicies: [{ name: 'keyturn-grant', policy: policies.identity }],
      ...(policies.boundary
        ? { permissionBoundaryPolicies: [{ name: 'keyturn-access-boundary', policy: policies.boundary }] }
        : {}),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    },
    { simulationMode: 'Strict' },
  );
  if (response.resultType === 'error') return `error: ${response.errors.message}`;
  return response.overallResult;
}

const OWN_SESSION = { 'ssm:resourceTag/aws:ssmmessages:session-id': 'AROAFACTORYALICE0001:alice' };

describe('a grant policy rendered for a target in account B (factory, Osaka)', () => {
  const inB = { identity: grantPolicy(B) };

  it('allows StartSession on B’s tagged node in B’s region inside the window, and the shell document', async () => {
    expect(await decide(aliceInB, inB, 'ssm:StartSession', node(B, REGION), TAGS)).toBe('Allowed');
    expect(await decide(aliceInB, inB, 'ssm:StartSession', documentArn(REGION))).toBe('Allowed');
    // The control case for everything below: the same node just after the window.
    expect(
      await decide(aliceInB, inB, 'ssm:StartSession', node(B, REGION), { ...TAGS, 'aws:CurrentTime': AFTER }),
    ).toBe('ImplicitlyDenied');
  });

  it.each<[string, string, string, Record<string, string>]>([
    ['StartSession on A’s node with the same tags, same region', 'ssm:StartSession', node(A, REGION), TAGS],
    [
      'StartSession on A’s EC2 instance with the same tags',
      'ssm:StartSession',
      node(A, REGION, 'i-0a1b2c3d4e5f60718'),
      TAGS,
    ],
    ['TerminateSession of an own session in A', 'ssm:TerminateSession', sessionArn(A, REGION), OWN_SESSION],
    ['ResumeSession of an own session in A', 'ssm:ResumeSession', sessionArn(A, REGION), OWN_SESSION],
  ])('allows B’s access role nothing in account A: %s', async (_case, action, resource, context) => {
    expect(await decide(aliceInB, inB, action, resource, context)).toBe('ImplicitlyDenied');
  });

  it('names no node of account A: even a principal in A holding it cannot reach A’s tagged nodes', async () => {
    expect(await decide(aliceInA, inB, 'ssm:StartSession', node(A, REGION), TAGS)).toBe('ImplicitlyDenied');
    expect(
      await decide(aliceInA, inB, 'ssm:StartSession', node(A, REGION, 'i-0a1b2c3d4e5f60718'), TAGS),
    ).toBe('ImplicitlyDenied');
    // Control: the policy rendered for A does reach A's node, so the denial above is the policy's account.
    expect(
      await decide(aliceInA, { identity: grantPolicy(A) }, 'ssm:StartSession', node(A, REGION), TAGS),
    ).toBe('Allowed');
  });

  it('allows nothing in B’s other region: not its node with the same tags, not the documents there', async () => {
    expect(await decide(aliceInB, inB, 'ssm:StartSession', node(B, OTHER_REGION), TAGS)).toBe(
      'ImplicitlyDenied',
    );
    expect(await decide(aliceInB, inB, 'ssm:StartSession', documentArn(OTHER_REGION))).toBe(
      'ImplicitlyDenied',
    );
  });
});

describe('the permissions boundary rendered for account B caps even an allow-everything policy', () => {
  const capped = { identity: EVERYTHING, boundary: boundary(B) };

  it('lets B’s access role reach B’s tagged node in B’s region, and its own sessions there', async () => {
    expect(await decide(aliceInB, capped, 'ssm:StartSession', node(B, REGION), TAGS)).toBe('Allowed');
    expect(await decide(aliceInB, capped, 'ssm:TerminateSession', sessionArn(B, REGION), OWN_SESSION)).toBe(
      'Allowed',
    );
  });

  it.each<[string, Caller, string, string, Record<string, string>]>([
    ['B’s role: A’s node, same tags, same region', aliceInB, 'ssm:StartSession', node(A, REGION), TAGS],
    ['a principal in A under B’s boundary: A’s node', aliceInA, 'ssm:StartSession', node(A, REGION), TAGS],
    ['B’s role: its node in B’s other region', aliceInB, 'ssm:StartSession', node(B, OTHER_REGION), TAGS],
    [
      'B’s role: the shell document in B’s other region',
      aliceInB,
      'ssm:StartSession',
      documentArn(OTHER_REGION),
      {},
    ],
    [
      'B’s role: IAM in B',
      aliceInB,
      'iam:AttachRolePolicy',
      `arn:aws:iam::${FACTORY}:role/keyturn/people/keyturn-u0alice`,
      {},
    ],
    ['B’s role: Run Command in B', aliceInB, 'ssm:SendCommand', node(B, REGION), TAGS],
  ])('denies %s', async (_case, caller, action, resource, context) => {
    expect(await decide(caller, capped, action, resource, context)).toBe('ImplicitlyDenied');
  });
});
