import {
  AttachRolePolicyCommand,
  CreatePolicyCommand,
  CreateRoleCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
  ListAttachedRolePoliciesCommand,
  ListPoliciesCommand,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { grantorTemplate } from '../../deploy/grantor';
import type { CfnResource } from '../../deploy/stack';
import { grantPolicy, grantPolicyArn } from '../../src/app/grant-policy';
import { parseConfig } from '../../src/config/load';
import type { Config } from '../../src/config/types';
import { boundaryArn } from '../../src/domain/boundary';
import { POLICY_PATH, policyName } from '../../src/domain/policy';
import { resolveIn } from '../deploy/intrinsics';
import { type Moto, startMoto } from '../support/moto';

// The grantor template's IAM resources (deploy/grantor.ts) created in a member account of moto_server
// (a separate IAM backend per account id, reached by STS AssumeRole), as CloudFormation would create
// them there: moto validates every policy document, so a template whose Fn::Sub or boundary renders
// into an invalid document fails here. Then, through the grantor role, a grant's policy is created and
// attached to an access role in that account only, with the names the runtime uses.

const HOME = '123456789012';
const FACTORY = '444455556666';
const FUNCTIONS_ROLE = `arn:aws:iam::${HOME}:role/keyturn-prod-ap-northeast-1-lambdaRole`;

function config(): Config {
  const parsed = parseConfig(
    `
aws:
  accountId: "${HOME}"
  region: ap-northeast-1
  accounts:
    - { accountId: "${FACTORY}", alias: factory, regions: [ap-northeast-3, eu-central-1] }
slack: { requestsChannel: C0APPROVALS, auditChannel: C0AUDIT }
digest: { at: "07:30", timezone: Europe/Berlin }
people:
  U0ALICE: { iamUser: engineering/alice }
  U0CAROL: { identityCenter: carol@example.com }
  U0DAVE: { iamRole: oncall, sessionName: dave }
targets:
  osaka-pis: { account: factory, region: ap-northeast-3, tags: { Fleet: osaka-pi }, defaultDuration: 30m, maxDuration: 1h, approvers: [U0CAROL], runAs: pi-ops, documents: [shell, ssh] }
  frankfurt-pis: { account: factory, region: eu-central-1, tags: { Fleet: frankfurt-pi, Line: "3" }, defaultDuration: 30m, maxDuration: 1h, approvers: [U0CAROL], documents: [port-forward] }
snippets:
  uptime: { run: uptime, targets: [osaka-pis] }
`,
    'organisation.yml',
  );
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.error));
  return parsed.value;
}

let moto: Moto;
const client = (credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }) =>
  new IAMClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials, maxAttempts: 1 });
const HOME_CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' };

async function assume(roleArn: string, credentials = HOME_CREDENTIALS): Promise<IAMClient> {
  const sts = new STSClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials, maxAttempts: 1 });
  const out = await sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'keyturn' }));
  sts.destroy();
  const c = out.Credentials!;
  return client({
    accessKeyId: c.AccessKeyId!,
    secretAccessKey: c.SecretAccessKey!,
    sessionToken: c.SessionToken!,
  });
}

beforeAll(async () => {
  moto = await startMoto();
}, 60_000);

afterAll(async () => {
  await moto?.stop();
});

/** What CloudFormation does with the template's IAM resources in `account` (credentials of that account). */
async function deployGrantor(iam: IAMClient, template: ReturnType<typeof grantorTemplate>): Promise<void> {
  const resolve = (v: unknown) =>
    resolveIn(FACTORY, { KeyturnFunctionsRoleArn: FUNCTIONS_ROLE, KeyturnEventBusArn: 'unused' }, v);
  const resources = Object.values(template.Resources) as CfnResource[];
  for (const r of resources.filter((r) => r.Type === 'AWS::IAM::ManagedPolicy')) {
    await iam.send(
      new CreatePolicyCommand({
        PolicyName: r.Properties.ManagedPolicyName as string,
        Path: r.Properties.Path as string,
        PolicyDocument: JSON.stringify(resolve(r.Properties.PolicyDocument)),
      }),
    );
  }
  for (const r of resources.filter((r) => r.Type === 'AWS::IAM::Role' && r.Properties.RoleName)) {
    const role = r.Properties;
    await iam.send(
      new CreateRoleCommand({
        RoleName: role.RoleName as string,
        ...(role.Path ? { Path: role.Path as string } : {}),
        AssumeRolePolicyDocument: JSON.stringify(resolve(role.AssumeRolePolicyDocument)),
        // { Ref: KeyturnAccessBoundary } resolves to the boundary's ARN in this account.
        ...(role.PermissionsBoundary
          ? { PermissionsBoundary: boundaryArn({ partition: 'aws', accountId: FACTORY }) }
          : {}),
      }),
    );
    for (const p of (role.Policies ?? []) as { PolicyName: string; PolicyDocument: unknown }[]) {
      await iam.send(
        new PutRolePolicyCommand({
          RoleName: role.RoleName as string,
          PolicyName: p.PolicyName,
          PolicyDocument: JSON.stringify(resolve(p.PolicyDocument)),
        }),
      );
    }
  }
}

describe('the grantor template in a member account (moto IAM)', () => {
  it('creates valid documents, and the runtime grants through the grantor role in that account only', async () => {
    const cfg = config();
    const template = grantorTemplate(cfg, { functionsRoleName: 'keyturn-prod-ap-northeast-1-lambdaRole' });
    await deployGrantor(await assume(`arn:aws:iam::${FACTORY}:role/OrganizationAccountAccessRole`), template);

    // The access roles exist in the member account, under the boundary, trusting home identities.
    const factory = await assume(`arn:aws:iam::${FACTORY}:role/OrganizationAccountAccessRole`);
    const alice = await factory.send(new GetRoleCommand({ RoleName: 'keyturn-u0alice' }));
    expect(alice.Role?.Arn).toBe(`arn:aws:iam::${FACTORY}:role/keyturn/people/keyturn-u0alice`);
    expect(alice.Role?.PermissionsBoundary?.PermissionsBoundaryArn).toBe(
      `arn:aws:iam::${FACTORY}:policy/keyturn-boundary/keyturn-access-boundary`,
    );
    expect(decodeURIComponent(alice.Role?.AssumeRolePolicyDocument ?? '')).toContain(
      `arn:aws:iam::${HOME}:user/engineering/alice`,
    );
    const grantorPolicy = await factory.send(
      new GetRolePolicyCommand({ RoleName: 'keyturn-grantor', PolicyName: 'keyturn-grantor' }),
    );
    const grantorText = decodeURIComponent(grantorPolicy.PolicyDocument ?? '');
    expect(grantorText).toContain(`arn:aws:iam::${FACTORY}:role/keyturn/people/*`);
    expect(grantorText).not.toContain(HOME);

    // Keyturn, as the grantor role, creates the grant's policy and attaches it to alice's access role.
    const grantor = await assume(`arn:aws:iam::${FACTORY}:role/keyturn-grantor`);
    const rendered = grantPolicy(
      cfg,
      { startsAt: '2026-11-03T10:00:00Z', expiresAt: '2026-11-03T11:00:00Z' },
      cfg.targets['osaka-pis']!,
    );
    if (!rendered.ok) throw new Error('the grant policy did not render');
    await grantor.send(
      new CreatePolicyCommand({
        PolicyName: policyName('g-0001'),
        Path: POLICY_PATH,
        PolicyDocument: JSON.stringify(rendered.value),
      }),
    );
    const arn = grantPolicyArn({ partition: 'aws', accountId: FACTORY }, 'g-0001');
    await grantor.send(new AttachRolePolicyCommand({ RoleName: 'keyturn-u0alice', PolicyArn: arn }));
    const attached = await grantor.send(new ListAttachedRolePoliciesCommand({ RoleName: 'keyturn-u0alice' }));
    expect(attached.AttachedPolicies?.map((p) => p.PolicyArn)).toEqual([arn]);

    // The home account's IAM is another backend: nothing of the member account's grant is there.
    const home = client(HOME_CREDENTIALS);
    const homePolicies = await home.send(
      new ListPoliciesCommand({ Scope: 'Local', PathPrefix: POLICY_PATH }),
    );
    expect(homePolicies.Policies ?? []).toEqual([]);
    for (const c of [factory, grantor, home]) c.destroy();
  });
});
