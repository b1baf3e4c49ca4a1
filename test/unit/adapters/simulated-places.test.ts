import { mayAssumeAccessRole } from '../../../src/adapters/sandbox/simulated-iam-evaluator';
import { SimulatedOrganisation } from '../../../src/adapters/sandbox/simulated-places';
import type { Config } from '../../../src/config/types';
import { nodeArn } from '../../../src/domain/node';
import { accessRoleName } from '../../../src/domain/person';
import { POLICY_PATH, policyName, renderGrantPolicy } from '../../../src/domain/policy';
import type { Place } from '../../../src/domain/place';
import type { Principal } from '../../../src/domain/principal';
import type { Target } from '../../../src/domain/target';
import { RUN_SHELL_DOCUMENT, type SendCommandRequest } from '../../../src/ports/command-runner';
import { ManualClock, prodRaspi, testConfig } from '../../support/fakes';

const HOME = '123456789012';
const FACTORY = '444455556666';
const TOKYO = 'ap-northeast-1';
const FRANKFURT = 'eu-central-1';
const NOW = '2026-11-02T13:30:00.000Z';

// The same tags in every place: only the account and region tell the nodes apart, so what a grant
// reaches is decided by where its policy is attached and what its ARNs name, never by tags.
const TAGS = { Fleet: 'pi' };
const HOME_PI = 'mi-0a0a0a0a0a0a00001';
const HOME_PI_OSAKA = 'mi-0a0a0a0a0a0a00002';
const FACTORY_PI = 'mi-0f0f0f0f0f0f00001';

const alice: Principal = { kind: 'access-role', name: accessRoleName('U0ALICE'), sessionName: 'alice' };

function target(name: string, place: Place): Target {
  return { ...prodRaspi, name, tags: TAGS, account: place.accountId, region: place.region };
}

function organisationConfig(): Config {
  const base = testConfig();
  return {
    ...base,
    aws: {
      ...base.aws,
      accounts: {
        [HOME]: { accountId: HOME, regions: [TOKYO, 'ap-northeast-3'] },
        [FACTORY]: {
          accountId: FACTORY,
          alias: 'factory',
          regions: [FRANKFURT],
          grantorRoleArn: `arn:aws:iam::${FACTORY}:role/keyturn-grantor`,
        },
      },
    },
    targets: {
      'home-pi': target('home-pi', { accountId: HOME, region: TOKYO }),
      'osaka-pi': target('osaka-pi', { accountId: HOME, region: 'ap-northeast-3' }),
      'factory-pi': target('factory-pi', { accountId: FACTORY, region: FRANKFURT }),
    },
    sandbox: {
      fleet: [
        { id: HOME_PI, name: 'home-pi-1', tags: TAGS, ping: 'Online' },
        {
          id: HOME_PI_OSAKA,
          name: 'osaka-pi-1',
          tags: TAGS,
          account: HOME,
          region: 'ap-northeast-3',
          ping: 'Online',
        },
        {
          id: FACTORY_PI,
          name: 'factory-pi-1',
          tags: TAGS,
          account: FACTORY,
          region: FRANKFURT,
          ping: 'Online',
        },
      ],
      userGroups: {},
    },
  };
}

function organisation() {
  const clock = new ManualClock(new Date(NOW));
  return { org: new SimulatedOrganisation({ config: organisationConfig(), clock }), clock };
}

/** What an approval attaches for a target at `place`, attached to alice's access role in `attachIn`. */
async function grantAt(org: SimulatedOrganisation, place: Place, attachIn = place.accountId, id = 'g1') {
  const rendered = renderGrantPolicy({
    accountId: place.accountId,
    region: place.region,
    target: { tags: TAGS, documents: ['shell'] },
    startsAt: '2026-11-02T13:00:00Z',
    expiresAt: '2026-11-02T14:00:00Z',
  });
  if (!rendered.ok) throw new Error('grant policy did not render');
  const account = org.access(attachIn);
  const { arn } = await account.createPolicy({
    name: policyName(id),
    path: POLICY_PATH,
    description: `grant ${id}`,
    document: rendered.value,
    tags: {},
  });
  await account.attachPolicy(alice, arn);
  return arn;
}

describe('the simulated organisation: IAM per account', () => {
  it('a grant in the member account allows its nodes only; the home account sees no policy of it', async () => {
    const { org } = organisation();
    const arn = await grantAt(org, { accountId: FACTORY, region: FRANKFURT });
    expect(arn).toBe(`arn:aws:iam::${FACTORY}:policy${POLICY_PATH}${policyName('g1')}`);

    expect(await org.evaluate(alice, FACTORY_PI)).toBe('allowed');
    // Same tags, other account: the policy is not there, so nothing allows it.
    expect(await org.evaluate(alice, HOME_PI)).toBe('denied');
    expect(await org.evaluate(alice, HOME_PI_OSAKA)).toBe('denied');
    expect(org.access(HOME).policyArns()).toEqual([]);
    expect(org.access(HOME).attachedPolicies(alice)).toEqual([]);
    expect(org.access(FACTORY).attachedPolicies(alice)).toEqual([arn]);

    expect((await org.startSession(alice, FACTORY_PI)).ok).toBe(true);
    expect(await org.startSession(alice, HOME_PI)).toEqual({ ok: false, reason: 'access-denied' });
  });

  it('a grant policy naming the home account allows nothing in the member account it is attached in', async () => {
    const { org } = organisation();
    await grantAt(org, { accountId: HOME, region: TOKYO }, FACTORY);
    expect(await org.evaluate(alice, FACTORY_PI)).toBe('denied');
    expect(await org.evaluate(alice, HOME_PI)).toBe('denied');
  });

  it('a grant in the home account’s one region allows nothing in its other region', async () => {
    const { org } = organisation();
    await grantAt(org, { accountId: HOME, region: TOKYO });
    expect(await org.evaluate(alice, HOME_PI)).toBe('allowed');
    expect(await org.evaluate(alice, HOME_PI_OSAKA)).toBe('denied');
    expect(await org.evaluate(alice, FACTORY_PI)).toBe('denied');
  });

  it('each account’s access-role checks (canStartSession) name its own nodes', async () => {
    const { org } = organisation();
    await grantAt(org, { accountId: FACTORY, region: FRANKFURT });
    const check = (accountId: string, region: string, id: string) => ({
      nodeArn: nodeArn({ partition: 'aws', accountId, region }, id),
      tags: TAGS,
      at: NOW,
    });
    expect(await org.access(FACTORY).canStartSession(alice, check(FACTORY, FRANKFURT, FACTORY_PI))).toBe(
      true,
    );
    expect(await org.access(HOME).canStartSession(alice, check(HOME, TOKYO, HOME_PI))).toBe(false);
    // Keyturn's calls are logged per account: the home account saw only its own check.
    expect(org.access(HOME).calls.map((c) => c.op)).toEqual(['canStartSession']);
  });

  it('the member account’s access role trusts the person’s identity in the home account, and only with their session name', async () => {
    const person = organisationConfig().people.U0ALICE!;
    const ask = (home: string, sessionName: string) =>
      mayAssumeAccessRole({
        account: { partition: 'aws', accountId: FACTORY },
        home: { partition: 'aws', accountId: home },
        region: FRANKFURT,
        roleName: accessRoleName('U0ALICE'),
        sessionName,
        person,
      });
    // Cross-account: both her identity's policy (home) and the role's trust (factory) must allow it.
    expect(await ask(HOME, 'alice')).toBe(true);
    expect(await ask(HOME, 'bob')).toBe(false);

    // Through the organisation: alice's access role in the factory acts; under another session name it does not.
    const { org } = organisation();
    await grantAt(org, { accountId: FACTORY, region: FRANKFURT });
    expect(await org.evaluate({ ...alice, sessionName: 'mallory' }, FACTORY_PI)).toBe('denied');
  });

  it('refuses an account the config does not declare', () => {
    const { org } = organisation();
    expect(() => org.access('999988887777')).toThrow(/999988887777 is not declared/);
    expect(() => org.fleet({ accountId: '999988887777', region: TOKYO })).toThrow(/not declared/);
  });
});

describe('the simulated organisation: Systems Manager per account and region', () => {
  it('each place’s fleet lists its own nodes and the sessions on them, and cannot end another place’s', async () => {
    const { org } = organisation();
    await grantAt(org, { accountId: FACTORY, region: FRANKFURT });
    await grantAt(org, { accountId: HOME, region: 'ap-northeast-3' }, HOME, 'g2');
    const inFactory = await org.startSession(alice, FACTORY_PI);
    const inOsaka = await org.startSession(alice, HOME_PI_OSAKA);
    if (!inFactory.ok || !inOsaka.ok) throw new Error('sessions did not start');
    // The owner is the access role's session in the node's own account.
    expect(inFactory.session.owner).toBe(`arn:aws:sts::${FACTORY}:assumed-role/keyturn-u0alice/alice`);
    expect(inOsaka.session.owner).toBe(`arn:aws:sts::${HOME}:assumed-role/keyturn-u0alice/alice`);

    const factory = org.fleet({ accountId: FACTORY, region: FRANKFURT });
    const tokyo = org.fleet({ accountId: HOME, region: TOKYO });
    const osaka = org.fleet({ accountId: HOME, region: 'ap-northeast-3' });
    expect((await factory.nodesTagged(TAGS)).map((n) => n.id)).toEqual([FACTORY_PI]);
    expect((await tokyo.nodesTagged(TAGS)).map((n) => n.id)).toEqual([HOME_PI]);
    expect((await osaka.nodesTagged(TAGS)).map((n) => n.id)).toEqual([HOME_PI_OSAKA]);
    expect((await factory.activeSessions()).map((s) => s.id)).toEqual([inFactory.session.id]);
    expect((await osaka.activeSessions()).map((s) => s.id)).toEqual([inOsaka.session.id]);
    expect(await tokyo.activeSessions()).toEqual([]);

    // TerminateSession in the wrong place answers as for an unknown id: success, and nothing ends.
    await tokyo.terminateSession(inFactory.session.id);
    await org.fleet({ accountId: FACTORY, region: FRANKFURT }).terminateSession(inOsaka.session.id);
    expect(
      org
        .openSessionsOf(alice)
        .map((s) => s.id)
        .sort(),
    ).toEqual([inFactory.session.id, inOsaka.session.id].sort());
    await factory.terminateSession(inFactory.session.id);
    expect(org.openSessionsOf(alice)).toEqual([
      expect.objectContaining({ id: inOsaka.session.id, accountId: HOME, region: 'ap-northeast-3' }),
    ]);
    expect((await factory.sessionsSince('2026-11-02T00:00:00Z')).map((s) => s.id)).toEqual([
      inFactory.session.id,
    ]);
    expect(await osaka.sessionsSince('2026-11-02T00:00:00Z')).toEqual([]);
  });

  it('Run Command in a place reaches that place’s nodes only, with command ids unique across places', async () => {
    const { org } = organisation();
    const request: SendCommandRequest = {
      documentName: RUN_SHELL_DOCUMENT,
      targetTags: TAGS,
      commands: ['df -h /'],
      deliveryTimeoutSeconds: 300,
      comment: 'keyturn run r1',
    };
    const factory = org.commands({ accountId: FACTORY, region: FRANKFURT });
    const tokyo = org.commands({ accountId: HOME, region: TOKYO });
    expect(org.commands({ accountId: FACTORY, region: FRANKFURT })).toBe(factory);
    const a = await factory.sendCommand(request);
    const b = await tokyo.sendCommand(request);
    expect(a.commandId).not.toBe(b.commandId);
    expect((await factory.progress(a.commandId)).invocations.map((i) => i.nodeId)).toEqual([FACTORY_PI]);
    expect((await tokyo.progress(b.commandId)).invocations.map((i) => i.nodeId)).toEqual([HOME_PI]);
    // Another place's command id is unknown here, as it is to SSM in another account or region.
    await expect(tokyo.progress(a.commandId)).rejects.toThrow(/no command/);
  });

  it('says where a node is, by alias when there is one', () => {
    const { org } = organisation();
    expect(org.placeOfNode(FACTORY_PI)).toEqual({ accountId: FACTORY, region: FRANKFURT });
    expect(org.placeOfNode(HOME_PI)).toEqual({ accountId: HOME, region: TOKYO });
    expect(org.placeOfNode('mi-00000000000000000')).toBeUndefined();
    expect(org.describe({ accountId: FACTORY, region: FRANKFURT })).toBe(
      `factory (${FACTORY}), ${FRANKFURT}`,
    );
  });

  it('saves and restores every account’s state on its own', async () => {
    const { org } = organisation();
    await grantAt(org, { accountId: FACTORY, region: FRANKFURT });
    const saved = JSON.parse(JSON.stringify(org.snapshot())) as ReturnType<SimulatedOrganisation['snapshot']>;
    expect(Object.keys(saved).sort()).toEqual([HOME, FACTORY].sort());
    expect(saved[HOME]?.policies).toEqual([]);

    const { org: again } = organisation();
    again.restore(saved);
    expect(await again.evaluate(alice, FACTORY_PI)).toBe('allowed');
    again.restore();
    expect(await again.evaluate(alice, FACTORY_PI)).toBe('denied');
    expect(again.access(FACTORY).policyArns()).toEqual([]);
  });
});
