import {
  AttachRolePolicyCommand,
  CreatePolicyCommand,
  CreateRoleCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  IAMClient,
  ListAttachedRolePoliciesCommand,
  ListPoliciesCommand,
  ListRoleTagsCommand,
} from '@aws-sdk/client-iam';
import { ListCommandsCommand, SSMClient } from '@aws-sdk/client-ssm';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity } from '@smithy/types';
import { releaseGrant } from '../../src/app/end-grant';
import { grantPolicyArn } from '../../src/app/grant-policy';
import { handleJob } from '../../src/app/handle-job';
import { reconcile } from '../../src/app/reconcile';
import { requestRun } from '../../src/app/run-snippet';
import { sweep } from '../../src/app/sweep';
import type { Config } from '../../src/config/types';
import type { ManagedNode } from '../../src/domain/node';
import { defaultGrantorRoleArn, type Place, placeKey } from '../../src/domain/place';
import type { Target } from '../../src/domain/target';
import { AccountUnreachableError } from '../../src/adapters/aws/assumed-role-credentials';
import { grantorCredentials, realAwsPlaces } from '../../src/main/aws-places';
import type { AccessControl } from '../../src/ports/access-control';
import type { AwsPlaces } from '../../src/ports/aws-places';
import type { Fleet } from '../../src/ports/fleet';
import { prodRaspi, runFakes } from '../support/fakes';
import {
  activate,
  approve,
  drain,
  extend,
  MINUTE,
  type Scenario,
  scenario,
  stored,
} from '../support/grant-scenarios';
import { AWS_ENV, savedEnv } from '../support/env';
import { createAccessRoles, type Moto, startMoto } from '../support/moto';

/*
 * Two accounts and two regions on moto_server, which keeps a separate IAM and SSM backend per account id
 * and reaches another account's through sts:AssumeRole (FACTS.md). Keyturn runs as it does deployed:
 * realAwsPlaces with the grantor credentials of grantorCredentials(config), every SDK client pointed
 * at moto by AWS_ENDPOINT_URL (which the SDK reads itself). The home account is moto's default,
 * 123456789012; the factory account is reached only through its keyturn-grantor role. Grants, extensions,
 * revokes, reconciles and Run Command go through the real use cases; the test then reads IAM and SSM in
 * each account itself. Stubbed, because moto has none of them: SimulatePrincipalPolicy (IAM's readiness
 * check) and the fleet (DescribeInstanceInformation, DescribeSessions, TerminateSession).
 */

const HOME = '123456789012';
const FACTORY = '222233334444';
const TOKYO = 'ap-northeast-1';
const OSAKA = 'ap-northeast-3';
const FRANKFURT = 'eu-central-1';
const ACCOUNTS = [HOME, FACTORY] as const;
const PLACES: Place[] = [
  { accountId: HOME, region: TOKYO },
  { accountId: HOME, region: FRANKFURT },
  { accountId: FACTORY, region: OSAKA },
  { accountId: FACTORY, region: TOKYO },
];

const target = (name: string, accountId: string, region: string, extra: Partial<Target> = {}): Target => ({
  ...prodRaspi,
  name,
  description: `${name} fleet`,
  account: accountId,
  region,
  tags: { Fleet: name },
  runners: ['U0DAVE'],
  ...extra,
});
const TARGETS: Record<string, Target> = {
  'home-tokyo': target('home-tokyo', HOME, TOKYO),
  'home-frankfurt': target('home-frankfurt', HOME, FRANKFURT),
  'factory-osaka': target('factory-osaka', FACTORY, OSAKA, { runAs: 'pi-ops' }),
  'factory-tokyo': target('factory-tokyo', FACTORY, TOKYO),
};
const placeOfTarget = (name: string): Place => ({
  accountId: TARGETS[name]!.account,
  region: TARGETS[name]!.region,
});

const CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' };
let env: ReturnType<typeof savedEnv>;

let moto: Moto;
/** The test's own view of each account: IAM as an administrator there, SSM per place. */
const iamIn: Record<string, IAMClient> = {};
const ssmAt = new Map<string, SSMClient>();

function configFor(base: Config): Config {
  return {
    ...base,
    aws: {
      accountId: HOME,
      region: TOKYO,
      partition: 'aws',
      accounts: {
        [HOME]: { accountId: HOME, regions: [TOKYO, FRANKFURT] },
        [FACTORY]: {
          accountId: FACTORY,
          alias: 'factory',
          regions: [OSAKA, TOKYO],
          grantorRoleArn: defaultGrantorRoleArn('aws', FACTORY),
        },
      },
    },
    targets: TARGETS,
    snippets: {
      uptime: {
        name: 'uptime',
        description: 'Load',
        run: 'uptime',
        targets: Object.keys(TARGETS),
        params: {},
        approval: false,
      },
    },
  };
}

/** An administrator's credentials in another account, as moto hands them out: AssumeRole into it. */
async function adminIn(accountId: string): Promise<AwsCredentialIdentity> {
  const sts = new STSClient({ region: TOKYO, endpoint: moto.endpoint, credentials: CREDENTIALS });
  const out = await sts.send(
    new AssumeRoleCommand({
      RoleArn: `arn:aws:iam::${accountId}:role/OrganizationAccountAccessRole`,
      RoleSessionName: 'moto-test',
    }),
  );
  sts.destroy();
  const c = out.Credentials;
  return {
    accessKeyId: c?.AccessKeyId ?? '',
    secretAccessKey: c?.SecretAccessKey ?? '',
    sessionToken: c?.SessionToken ?? '',
  };
}

/**
 * What CloudFormation would make of the access roles in one account: the boundary and a role per
 * person (deploy/stack.ts accessRoleStacks, rendered for that account's targets), and in a member
 * account the grantor role Keyturn assumes, trusting Keyturn's functions' role.
 */
async function deployAccessRoles(config: Config, accountId: string): Promise<void> {
  const iam = iamIn[accountId] as IAMClient;
  const here: Config = {
    ...config,
    aws: { ...config.aws, accountId },
    targets: Object.fromEntries(Object.entries(config.targets).filter(([, t]) => t.account === accountId)),
  };
  await createAccessRoles(iam, here);
  if (accountId !== config.aws.accountId) {
    await iam.send(
      new CreateRoleCommand({
        RoleName: 'keyturn-grantor',
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { AWS: `arn:aws:iam::${HOME}:role/keyturn-prod-functions` },
              Action: 'sts:AssumeRole',
            },
          ],
        }),
      }),
    );
  }
}

/** `/keyturn/` policy ARNs in one account, read by the test itself. */
async function keyturnPolicies(accountId: string): Promise<string[]> {
  const out = await (iamIn[accountId] as IAMClient).send(
    new ListPoliciesCommand({ Scope: 'Local', PathPrefix: '/keyturn/' }),
  );
  return (out.Policies ?? []).map((p) => p.Arn ?? '').sort();
}

async function attachedTo(accountId: string, role: string): Promise<string[]> {
  const out = await (iamIn[accountId] as IAMClient).send(
    new ListAttachedRolePoliciesCommand({ RoleName: role }),
  );
  return (out.AttachedPolicies ?? []).map((p) => p.PolicyArn ?? '').sort();
}

async function runAsTag(accountId: string, role: string): Promise<string | undefined> {
  const out = await (iamIn[accountId] as IAMClient).send(new ListRoleTagsCommand({ RoleName: role }));
  return out.Tags?.find((t) => t.Key === 'SSMSessionRunAs')?.Value;
}

type Statement = { Resource?: string | string[]; Condition?: { DateLessThan?: Record<string, string> } };

async function defaultDocument(accountId: string, policyArn: string): Promise<{ Statement: Statement[] }> {
  const iam = iamIn[accountId] as IAMClient;
  const policy = await iam.send(new GetPolicyCommand({ PolicyArn: policyArn }));
  const version = await iam.send(
    new GetPolicyVersionCommand({ PolicyArn: policyArn, VersionId: policy.Policy?.DefaultVersionId }),
  );
  return JSON.parse(decodeURIComponent(version.PolicyVersion?.Document ?? '{}'));
}

/** Run Command's commands in one account and region, as that place's SSM lists them. */
async function commandsAt(place: Place): Promise<{ id: string; comment: string; targets: unknown }[]> {
  const out = await (ssmAt.get(placeKey(place)) as SSMClient).send(new ListCommandsCommand({}));
  return (out.Commands ?? []).map((c) => ({
    id: c.CommandId ?? '',
    comment: c.Comment ?? '',
    targets: c.Targets,
  }));
}

/** A fleet per place that answers from its own nodes and records which place was asked what. */
class PlaceFleet implements Fleet {
  readonly asked: string[] = [];
  constructor(
    readonly place: Place,
    private readonly nodes: ManagedNode[],
  ) {}
  async nodesTagged(): Promise<ManagedNode[]> {
    this.asked.push('nodesTagged');
    return this.nodes;
  }
  async activeSessions() {
    this.asked.push('activeSessions');
    return [];
  }
  async sessionsSince() {
    this.asked.push('sessionsSince');
    return [];
  }
  async terminateSession() {
    this.asked.push('terminateSession');
  }
}

/**
 * Keyturn's AwsPlaces as deployed, with moto's missing operations stubbed. `unreachable`: accounts
 * whose STS AssumeRole fails as an outage would (moto's STS never refuses one).
 */
function placesOnMoto(
  config: Config,
  opts: { fleets?: Map<string, PlaceFleet>; unreachable?: readonly string[] } = {},
): { places: AwsPlaces; fleets: Map<string, PlaceFleet> } {
  const grantor = grantorCredentials(config);
  const credentialsFor = (accountId: string) => {
    if (!opts.unreachable?.includes(accountId)) return grantor(accountId);
    return async () => {
      throw new AccountUnreachableError(accountId, defaultGrantorRoleArn('aws', accountId), 'TimeoutError');
    };
  };
  const real = realAwsPlaces({ config, credentialsFor });
  const access = new Map<string, AccessControl>();
  const fleets =
    opts.fleets ??
    new Map(
      PLACES.map((p, i) => [
        placeKey(p),
        new PlaceFleet(p, [{ id: `mi-0000000000000000${i}`, name: `node-${i}`, ping: 'Online' }]),
      ]),
    );
  return {
    fleets,
    places: {
      simulated: false,
      access(accountId) {
        let a = access.get(accountId);
        if (!a) {
          // moto has no SimulatePrincipalPolicy; every other IAM call is real, in that account.
          a = { ...real.access(accountId), canStartSession: async () => true };
          access.set(accountId, a);
        }
        return a;
      },
      fleet(place) {
        const fleet = fleets.get(placeKey(place));
        if (!fleet) throw new Error(`no fleet at ${placeKey(place)}`);
        return fleet;
      },
      commands: (place) => real.commands(place),
    },
  };
}

beforeAll(async () => {
  moto = await startMoto();
  env = savedEnv(AWS_ENV);
  process.env.AWS_ENDPOINT_URL = moto.endpoint;
  // Keyturn's own credentials (the standard chain): moto's default account.
  process.env.AWS_ACCESS_KEY_ID = CREDENTIALS.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = CREDENTIALS.secretAccessKey;
  process.env.KEYTURN_AWS_MAX_ATTEMPTS = '2';
  for (const name of ['AWS_SESSION_TOKEN', 'AWS_REGION', 'AWS_PROFILE']) delete process.env[name];

  const factoryAdmin = await adminIn(FACTORY);
  for (const accountId of ACCOUNTS) {
    const credentials = accountId === HOME ? CREDENTIALS : factoryAdmin;
    iamIn[accountId] = new IAMClient({ region: TOKYO, endpoint: moto.endpoint, credentials, maxAttempts: 1 });
  }
  for (const place of PLACES) {
    const credentials = place.accountId === HOME ? CREDENTIALS : factoryAdmin;
    ssmAt.set(
      placeKey(place),
      new SSMClient({ region: place.region, endpoint: moto.endpoint, credentials, maxAttempts: 1 }),
    );
  }
}, 60_000);

afterAll(async () => {
  for (const client of [...Object.values(iamIn), ...ssmAt.values()]) client.destroy();
  env?.restore();
  await moto?.stop();
});

describe('one Keyturn, two accounts and two regions, on moto', () => {
  let s: Scenario;
  let fleets: Map<string, PlaceFleet>;

  beforeAll(async () => {
    s = scenario();
    const config = configFor(s.config);
    s.config = config;
    s.deps.config = config;
    const wired = placesOnMoto(config);
    s.deps.aws = wired.places;
    fleets = wired.fleets;
    const runs = runFakes({ config, clock: s.clock });
    s.deps.runs = runs.runs;
    s.deps.runChat = runs.runChat;
    s.deps.runPolling = { budgetMs: 60_000, firstDelayMs: 1_000, maxDelayMs: 15_000 };
    for (const accountId of ACCOUNTS) await deployAccessRoles(config, accountId);
  }, 60_000);

  beforeEach(() => {
    for (const fleet of fleets.values()) fleet.asked.length = 0;
  });

  it('the deploy leaves each account its own boundary and access roles, and the factory account its grantor role', async () => {
    for (const accountId of ACCOUNTS) {
      const role = (await iamIn[accountId]!.send(new GetRoleCommand({ RoleName: 'keyturn-u0alice' }))).Role;
      expect(role?.Arn).toBe(`arn:aws:iam::${accountId}:role/keyturn/people/keyturn-u0alice`);
      expect(role?.PermissionsBoundary?.PermissionsBoundaryArn).toBe(
        `arn:aws:iam::${accountId}:policy/keyturn-boundary/keyturn-access-boundary`,
      );
    }
    const grantor = (await iamIn[FACTORY]!.send(new GetRoleCommand({ RoleName: 'keyturn-grantor' }))).Role;
    expect(grantor?.Arn).toBe(defaultGrantorRoleArn('aws', FACTORY));
    await expect(
      iamIn[HOME]!.send(new GetRoleCommand({ RoleName: 'keyturn-grantor' })),
    ).rejects.toMatchObject({
      name: 'NoSuchEntityException',
    });
    for (const accountId of ACCOUNTS) expect(await keyturnPolicies(accountId)).toEqual([]);
  });

  it('Keyturn reaches the factory account as its grantor role, through STS AssumeRole', async () => {
    const credentials = grantorCredentials(s.config)(FACTORY);
    if (!credentials) throw new Error('a member account gets the grantor role');
    const sts = new STSClient({ region: TOKYO, endpoint: moto.endpoint, credentials });
    const identity = await sts.send(new GetCallerIdentityCommand({}));
    sts.destroy();
    expect(identity.Account).toBe(FACTORY);
    expect(identity.Arn).toBe(`arn:aws:sts::${FACTORY}:assumed-role/keyturn-grantor/keyturn`);
    expect(grantorCredentials(s.config)(HOME)).toBeUndefined();
  });

  it.each(Object.keys(TARGETS))(
    'grants, extends and revokes on %s in its own account and region, and nowhere else',
    async (name) => {
      const place = placeOfTarget(name);
      const other = place.accountId === HOME ? FACTORY : HOME;
      const grant = await activate(s, { user: 'U0ALICE', text: `${name} 1h replace sensor` });
      expect(grant).toMatchObject({ account: place.accountId, region: place.region });
      const policyArn = grantPolicyArn({ partition: 'aws', accountId: place.accountId }, grant.id);
      expect(grant.policyArn).toBe(policyArn);

      // The policy and its attachment are in the target's account, and the other account has none.
      expect(await keyturnPolicies(place.accountId)).toEqual([policyArn]);
      expect(await attachedTo(place.accountId, 'keyturn-u0alice')).toEqual([policyArn]);
      expect(await keyturnPolicies(other)).toEqual([]);
      expect(await attachedTo(other, 'keyturn-u0alice')).toEqual([]);
      // It allows the target's nodes in that account and region only.
      const document = await defaultDocument(place.accountId, policyArn);
      const resources = document.Statement.flatMap((st) => st.Resource ?? []);
      expect(resources).toContain(`arn:aws:ssm:${place.region}:${place.accountId}:managed-instance/*`);
      for (const arn of resources.filter(
        (r) => r.includes(':managed-instance/') || r.includes(':instance/'),
      )) {
        expect(arn).toMatch(new RegExp(`^arn:aws:(ssm|ec2):${place.region}:${place.accountId}:`));
      }
      const runAs = TARGETS[name]?.runAs;
      expect(await runAsTag(place.accountId, 'keyturn-u0alice')).toBe(runAs);
      expect(await runAsTag(other, 'keyturn-u0alice')).toBeUndefined();
      // The request card's node preview came from the target's place only.
      const askedAt = [...fleets.values()].filter((f) => f.asked.length > 0).map((f) => placeKey(f.place));
      expect(askedAt).toEqual([placeKey(place)]);

      const extended = await extend(s, grant);
      const after = await defaultDocument(place.accountId, policyArn);
      expect(after.Statement[0]?.Condition?.DateLessThan?.['aws:CurrentTime']).toBe(extended.expiresAt);
      expect(await keyturnPolicies(other)).toEqual([]);

      for (const fleet of fleets.values()) fleet.asked.length = 0;
      expect((await releaseGrant(s.deps, { user: 'U0ALICE', grantId: grant.id })).outcome).not.toBe(
        'refused',
      );
      await drain(s);
      expect((await stored(s, grant.id)).status).toBe('released');
      expect(await keyturnPolicies(place.accountId)).toEqual([]);
      expect(await attachedTo(place.accountId, 'keyturn-u0alice')).toEqual([]);
      expect(await runAsTag(place.accountId, 'keyturn-u0alice')).toBeUndefined();
      // Sessions were looked for (to end them) where the grant was, nowhere else.
      expect(fleets.get(placeKey(place))?.asked).toContain('activeSessions');
      for (const fleet of fleets.values()) {
        if (fleet !== fleets.get(placeKey(place))) expect(fleet.asked).not.toContain('activeSessions');
      }
    },
  );

  it('grants in both accounts at once expire in one sweep, each in its own account', async () => {
    const home = await activate(s, { user: 'U0BOB', text: 'home-frankfurt 1h deploy' });
    const factory = await activate(s, { user: 'U0BOB', text: 'factory-osaka 1h deploy' });
    const homeArn = grantPolicyArn({ partition: 'aws', accountId: HOME }, home.id);
    const factoryArn = grantPolicyArn({ partition: 'aws', accountId: FACTORY }, factory.id);
    expect(await attachedTo(HOME, 'keyturn-u0bob')).toEqual([homeArn]);
    expect(await attachedTo(FACTORY, 'keyturn-u0bob')).toEqual([factoryArn]);

    s.clock.advance(61 * MINUTE);
    const report = await sweep(s.deps);
    expect(report).toMatchObject({ ended: 2, failures: 0 });
    expect((await stored(s, home.id)).status).toBe('expired');
    expect((await stored(s, factory.id)).status).toBe('expired');
    for (const accountId of ACCOUNTS) {
      expect(await keyturnPolicies(accountId)).toEqual([]);
      expect(await attachedTo(accountId, 'keyturn-u0bob')).toEqual([]);
    }
  });

  it('a sweep ends the home grant while the factory account cannot be reached, and the factory one once it can', async () => {
    const home = await activate(s, { user: 'U0BOB', text: 'home-tokyo 1h deploy' });
    const factory = await activate(s, { user: 'U0BOB', text: 'factory-tokyo 1h deploy' });
    const factoryArn = grantPolicyArn({ partition: 'aws', accountId: FACTORY }, factory.id);
    const reachable = s.deps.aws;
    // Fresh clients (new containers) while STS cannot assume the factory's grantor role.
    s.deps.aws = placesOnMoto(s.config, { fleets, unreachable: [FACTORY] }).places;

    s.clock.advance(61 * MINUTE);
    expect(await sweep(s.deps)).toMatchObject({ ended: 1, failures: 1 });
    expect((await stored(s, home.id)).status).toBe('expired');
    expect(await attachedTo(HOME, 'keyturn-u0bob')).toEqual([]);
    // The factory grant is ending, its policy still attached: nothing reached the factory account.
    const stuck = await stored(s, factory.id);
    expect(stuck.status).toBe('active');
    expect(stuck.ending).toMatchObject({ status: 'expired' });
    expect(await attachedTo(FACTORY, 'keyturn-u0bob')).toEqual([factoryArn]);

    s.deps.aws = reachable;
    s.clock.advance(MINUTE);
    expect(await sweep(s.deps)).toMatchObject({ ended: 1, failures: 0 });
    expect((await stored(s, factory.id)).status).toBe('expired');
    expect(await attachedTo(FACTORY, 'keyturn-u0bob')).toEqual([]);
    expect(await keyturnPolicies(FACTORY)).toEqual([]);
  });

  it('while the factory account cannot be reached, its grant fails saying which role to check, and a home grant still goes through', async () => {
    const reachable = s.deps.aws;
    s.deps.aws = placesOnMoto(s.config, { fleets, unreachable: [FACTORY] }).places;
    const factory = await approve(s, { user: 'U0BOB', text: 'factory-osaka 1h deploy' });
    const home = await approve(s, { user: 'U0ALICE', text: 'home-tokyo 1h deploy' });
    const errors: unknown[] = [];
    for (let job = s.queue.jobs.shift(); job; job = s.queue.jobs.shift()) {
      // The failed grant's clean-up cannot reach the factory account either: that job fails, to be retried.
      await handleJob(s.deps, job).catch((e: unknown) => errors.push(e));
    }
    const failed = await stored(s, factory.id);
    expect(failed.status).toBe('failed');
    expect(failed.failureReason).toContain(
      `ould not assume ${defaultGrantorRoleArn('aws', FACTORY)} in account ${FACTORY} (TimeoutError); check that the grantor template is deployed there and trusts Keyturn's role`,
    );
    expect(errors.every((e) => (e as { code?: string }).code === 'AccountUnreachable')).toBe(true);
    expect((await stored(s, home.id)).status).toBe('active');
    expect(await attachedTo(HOME, 'keyturn-u0alice')).toEqual([
      grantPolicyArn({ partition: 'aws', accountId: HOME }, home.id),
    ]);
    expect(await keyturnPolicies(FACTORY)).toEqual([]);

    s.deps.aws = reachable;
    await releaseGrant(s.deps, { user: 'U0ALICE', grantId: home.id });
    await drain(s);
    expect(await keyturnPolicies(HOME)).toEqual([]);
  });

  it("reconciles one account's orphan policies without touching the other's, nor an active grant's", async () => {
    const active = await activate(s, { user: 'U0ALICE', text: 'factory-tokyo 1h check sensor' });
    const activeArn = grantPolicyArn({ partition: 'aws', accountId: FACTORY }, active.id);
    // Left behind by a crash, or made by hand: no grant explains them. One is still attached.
    const orphan = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 'ssm:DescribeSessions', Resource: '*' }],
    };
    const orphans: Record<string, string> = {};
    for (const accountId of ACCOUNTS) {
      const out = await iamIn[accountId]!.send(
        new CreatePolicyCommand({
          PolicyName: 'keyturn-gone1',
          Path: '/keyturn/',
          PolicyDocument: JSON.stringify(orphan),
        }),
      );
      orphans[accountId] = out.Policy?.Arn ?? '';
      await iamIn[accountId]!.send(
        new AttachRolePolicyCommand({ RoleName: 'keyturn-u0carol', PolicyArn: orphans[accountId] }),
      );
    }
    expect(orphans[FACTORY]).toBe(`arn:aws:iam::${FACTORY}:policy/keyturn/keyturn-gone1`);

    const factoryReport = await reconcile(s.deps, FACTORY);
    expect(factoryReport.orphansRemoved).toEqual([orphans[FACTORY]]);
    expect(await keyturnPolicies(FACTORY)).toEqual([activeArn]);
    expect(await attachedTo(FACTORY, 'keyturn-u0carol')).toEqual([]);
    expect(await attachedTo(FACTORY, 'keyturn-u0alice')).toEqual([activeArn]);
    // The home account's orphan is the home account's reconcile's.
    expect(await keyturnPolicies(HOME)).toEqual([orphans[HOME]]);
    expect(await attachedTo(HOME, 'keyturn-u0carol')).toEqual([orphans[HOME]]);

    const homeReport = await reconcile(s.deps, HOME);
    expect(homeReport).toEqual({ orphansRemoved: [orphans[HOME]], missingPolicies: [] });
    expect(await keyturnPolicies(HOME)).toEqual([]);
    expect(await keyturnPolicies(FACTORY)).toEqual([activeArn]);

    await releaseGrant(s.deps, { user: 'U0ALICE', grantId: active.id });
    await drain(s);
    expect(await keyturnPolicies(FACTORY)).toEqual([]);
  });

  it("sends Run Command in the target's account and region: the factory's SSM in Osaka lists it, no other place does", async () => {
    const before = new Map(
      await Promise.all(PLACES.map(async (p) => [placeKey(p), await commandsAt(p)] as const)),
    );
    const started = await requestRun(s.deps, {
      user: 'U0DAVE',
      channel: 'C0WORK',
      text: 'factory-osaka uptime',
    });
    if (started.outcome !== 'started') throw new Error(`not started: ${JSON.stringify(started)}`);
    expect(started.run).toMatchObject({ account: FACTORY, region: OSAKA });
    // The worker sends it; tracking is left out (moto has no ListCommandInvocations).
    for (let job = s.queue.jobs.shift(); job; job = s.queue.jobs.shift()) {
      if (job.kind === 'start-run') await handleJob(s.deps, job);
    }
    const run = await s.deps.runs.get(started.run.id);
    expect(run?.status).toBe('running');
    const commandId = run?.commandId;
    expect(commandId).toBeDefined();

    const osaka = await commandsAt({ accountId: FACTORY, region: OSAKA });
    const sent = osaka.filter(
      (c) => !before.get(placeKey({ accountId: FACTORY, region: OSAKA }))?.some((b) => b.id === c.id),
    );
    expect(sent).toEqual([
      {
        id: commandId,
        comment: expect.stringContaining(started.run.id),
        targets: [{ Key: 'tag:Fleet', Values: ['factory-osaka'] }],
      },
    ]);
    for (const place of PLACES.filter(
      (p) => placeKey(p) !== placeKey({ accountId: FACTORY, region: OSAKA }),
    )) {
      expect(await commandsAt(place)).toEqual(before.get(placeKey(place)));
    }

    // And the same snippet on the home account's Frankfurt target lands there.
    const home = await requestRun(s.deps, {
      user: 'U0DAVE',
      channel: 'C0WORK',
      text: 'home-frankfurt uptime',
    });
    if (home.outcome !== 'started') throw new Error(`not started: ${JSON.stringify(home)}`);
    for (let job = s.queue.jobs.shift(); job; job = s.queue.jobs.shift()) {
      if (job.kind === 'start-run') await handleJob(s.deps, job);
    }
    const homeRun = await s.deps.runs.get(home.run.id);
    const frankfurt = await commandsAt({ accountId: HOME, region: FRANKFURT });
    expect(frankfurt.map((c) => c.id)).toContain(homeRun?.commandId);
    expect((await commandsAt({ accountId: FACTORY, region: OSAKA })).map((c) => c.id)).not.toContain(
      homeRun?.commandId,
    );
  });
});
