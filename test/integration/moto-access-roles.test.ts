import {
  CreateRoleCommand,
  CreateUserCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  IAMClient,
  ListAttachedRolePoliciesCommand,
  ListRoleTagsCommand,
} from '@aws-sdk/client-iam';
import { createIamAccessControl } from '../../src/adapters/aws/iam-access-control';
import { releaseGrant } from '../../src/app/end-grant';
import type { Config } from '../../src/config/types';
import type { Person } from '../../src/domain/person';
import { onePlace, prodRaspi } from '../support/fakes';
import {
  activate,
  drain,
  extend,
  policyArnOf,
  type Scenario,
  scenario,
  stored,
} from '../support/grant-scenarios';
import { createAccessRoles, type Moto, startMoto } from '../support/moto';

// Access roles against moto_server's IAM, which validates policy documents and keeps roles, their
// boundaries and trust policies: the deploy's roles are created from the same generator the stack
// uses, then grants are applied, extended and revoked by the real use cases over the real IAM adapter.
// Only the readiness check is stubbed: moto has no SimulatePrincipalPolicy.

const people: Record<string, Person> = {
  U0ALICE: {
    user: 'U0ALICE',
    identity: { kind: 'iam-user', name: 'alice', path: '/engineering/' },
    attach: 'access-role',
  },
  U0CAROL: {
    user: 'U0CAROL',
    identity: { kind: 'iam-user', name: 'carol', path: '/' },
    attach: 'access-role',
  },
  U0ERIN: {
    user: 'U0ERIN',
    identity: { kind: 'identity-center', userName: 'erin@example.com' },
    attach: 'access-role',
  },
  U0DAVE: {
    user: 'U0DAVE',
    identity: { kind: 'iam-role', name: 'oncall', sessionName: 'dave' },
    attach: 'access-role',
  },
};

let moto: Moto;
let iam: IAMClient;

beforeAll(async () => {
  moto = await startMoto();
  iam = new IAMClient({
    region: 'us-east-1',
    endpoint: moto.endpoint,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    maxAttempts: 1,
  });
}, 60_000);

afterAll(async () => {
  iam?.destroy();
  await moto?.stop();
});

function configWith(base: Config): Config {
  return { ...base, people, targets: { 'prod-raspi': { ...prodRaspi, runAs: 'pi-ops' } } };
}

/** What CloudFormation would do with the stack's resources (deploy/stack.ts accessRoleStacks). */
async function deployAccessRoles(config: Config): Promise<void> {
  await iam.send(new CreateUserCommand({ UserName: 'alice', Path: '/engineering/' }));
  await iam.send(new CreateUserCommand({ UserName: 'carol' }));
  await iam.send(
    new CreateRoleCommand({
      RoleName: 'oncall',
      AssumeRolePolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::123456789012:root' }, Action: 'sts:AssumeRole' },
        ],
      }),
    }),
  );
  await createAccessRoles(iam, config);
}

async function attachedTo(role: string): Promise<string[]> {
  const out = await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: role }));
  return (out.AttachedPolicies ?? []).map((p) => p.PolicyArn ?? '').sort();
}

async function runAsTag(role: string): Promise<string | undefined> {
  const out = await iam.send(new ListRoleTagsCommand({ RoleName: role }));
  return out.Tags?.find((t) => t.Key === 'SSMSessionRunAs')?.Value;
}

async function defaultExpiry(policyArn: string): Promise<unknown> {
  const policy = await iam.send(new GetPolicyCommand({ PolicyArn: policyArn }));
  const version = await iam.send(
    new GetPolicyVersionCommand({ PolicyArn: policyArn, VersionId: policy.Policy?.DefaultVersionId }),
  );
  const raw = version.PolicyVersion?.Document ?? '';
  const doc = JSON.parse(decodeURIComponent(raw)) as {
    Statement: { Condition?: { DateLessThan?: Record<string, string> } }[];
  };
  return doc.Statement[0]?.Condition?.DateLessThan?.['aws:CurrentTime'];
}

describe('access roles on moto IAM', () => {
  let s: Scenario;

  beforeAll(async () => {
    s = scenario();
    const config = configWith(s.config);
    s.deps.config = config;
    s.config = config;
    const real = createIamAccessControl(iam, {
      accountId: config.aws.accountId,
      partition: config.aws.partition,
    });
    // moto has no SimulatePrincipalPolicy; everything else is real IAM calls.
    s.deps.aws = onePlace({ access: { ...real, canStartSession: async () => true }, fleet: s.account });
    await deployAccessRoles(config);
  }, 60_000);

  it('stores each access role under /keyturn/people/ with the boundary and its trust policy', async () => {
    const role = (await iam.send(new GetRoleCommand({ RoleName: 'keyturn-u0erin' }))).Role;
    expect(role?.Arn).toBe('arn:aws:iam::123456789012:role/keyturn/people/keyturn-u0erin');
    expect(role?.PermissionsBoundary?.PermissionsBoundaryArn).toBe(
      'arn:aws:iam::123456789012:policy/keyturn-boundary/keyturn-access-boundary',
    );
    const trust = JSON.parse(decodeURIComponent(role?.AssumeRolePolicyDocument ?? '{}'));
    expect(trust.Statement[0].Condition.StringLike).toEqual({ 'aws:userid': '*:erin@example.com' });
  });

  it.each([
    ['an IAM user with a path', 'U0ALICE', 'keyturn-u0alice'],
    ['an Identity Center user', 'U0ERIN', 'keyturn-u0erin'],
    ['a person in a shared role', 'U0DAVE', 'keyturn-u0dave'],
  ])('grants, extends and revokes for %s on their access role only', async (_what, user, role) => {
    const grant = await activate(s, { user, text: 'prod-raspi 1h replace sensor' });
    const policyArn = policyArnOf(s, grant.id);
    expect(grant.principal).toMatchObject({ kind: 'access-role', name: role });
    expect(await attachedTo(role)).toEqual([policyArn]);
    expect(await runAsTag(role)).toBe('pi-ops');
    // The person's own identity is never touched.
    expect(await attachedTo('oncall')).toEqual([]);
    expect(await defaultExpiry(policyArn)).toBe(grant.expiresAt);

    const extended = await extend(s, grant);
    expect(await defaultExpiry(policyArn)).toBe(extended.expiresAt);

    expect((await releaseGrant(s.deps, { user, grantId: grant.id })).outcome).not.toBe('refused');
    await drain(s);
    expect((await stored(s, grant.id)).status).toBe('released');
    expect(await attachedTo(role)).toEqual([]);
    expect(await runAsTag(role)).toBeUndefined();
    await expect(iam.send(new GetPolicyCommand({ PolicyArn: policyArn }))).rejects.toMatchObject({
      name: 'NoSuchEntityException',
    });
  });

  it('refuses to attach to a role that does not exist (moto, like IAM, says NoSuchEntity)', async () => {
    const real = createIamAccessControl(iam, { accountId: '123456789012' });
    await expect(
      real.attachPolicy(
        { kind: 'access-role', name: 'keyturn-u0nobody', sessionName: 'nobody' },
        'arn:aws:iam::123456789012:policy/keyturn-boundary/keyturn-access-boundary',
      ),
    ).rejects.toMatchObject({ code: 'NoSuchEntity' });
  });
});
