import { accessReply } from '../../../src/adapters/slack/replies';
import { requestAccess } from '../../../src/app/request-access';
import { ManualClock, MemoryGrantStore, RecordingQueue, testConfig } from '../../support/fakes';
import { FACTORY, HOME, orgConfig } from '../../support/org-config';

function setup(config = testConfig()) {
  const grants = new MemoryGrantStore();
  const queue = new RecordingQueue();
  let n = 0;
  const deps = {
    config,
    grants,
    queue,
    clock: new ManualClock(new Date('2026-11-23T10:00:00.123Z')),
    newId: () => `g${++n}`,
  };
  return { deps, grants, queue };
}

describe('requestAccess', () => {
  it('stores a pending grant and queues the approval card', async () => {
    const { deps, grants, queue } = setup();
    const result = await requestAccess(deps, {
      user: 'U0ALICE',
      text: 'prod-raspi 2h replace sensor on line 3',
    });
    expect(result).toMatchObject({ outcome: 'requested', channel: 'C0APPROVALS' });
    const stored = await grants.get('g1');
    expect(stored).toEqual({
      id: 'g1',
      requester: 'U0ALICE',
      principal: { kind: 'access-role', name: 'keyturn-u0alice', sessionName: 'alice' },
      target: 'prod-raspi',
      account: '123456789012',
      region: 'ap-northeast-1',
      durationMinutes: 120,
      reason: 'replace sensor on line 3',
      status: 'pending',
      version: 1,
      requestedAt: '2026-11-23T10:00:00Z',
      approvals: [],
      history: [{ at: '2026-11-23T10:00:00Z', from: null, to: 'pending', by: 'U0ALICE' }],
    });
    expect(queue.jobs).toEqual([{ kind: 'post-request-card', grantId: 'g1' }]);
  });

  it('refuses a request whose Slack trigger_id was seen before, storing and sending nothing new', async () => {
    const { deps, grants, queue } = setup();
    const input = { user: 'U0ALICE', text: 'prod-raspi 1h replace sensor', requestKey: 'trigger-1' };
    await requestAccess(deps, input);
    const stored = await grants.get('g1');
    if (!stored) throw new Error('no first grant');
    expect(stored.requestKey).toBe('trigger-1');
    await grants.save({ ...stored, status: 'cancelled', version: 2 }, 1);

    const again = await requestAccess(deps, input);

    expect(again).toMatchObject({
      outcome: 'refused',
      refusal: { reason: 'duplicate-request', existing: { id: 'g1', status: 'cancelled' } },
    });
    expect([...grants.items.keys()]).toEqual(['g1']);
    expect(queue.jobs).toEqual([{ kind: 'post-request-card', grantId: 'g1' }]);
  });

  it("uses the target's default duration when none is given", async () => {
    const { deps, grants } = setup();
    await requestAccess(deps, { user: 'U0DAVE', text: 'prod-raspi fix the dashboard' });
    expect((await grants.get('g1'))?.durationMinutes).toBe(60);
    expect((await grants.get('g1'))?.principal).toEqual({
      kind: 'access-role',
      name: 'keyturn-u0dave',
      sessionName: 'oncall-dave',
    });
  });

  it('shows the asker’s access-role profile in help, so it can be pasted again any time', async () => {
    const { deps } = setup();
    const mine = await requestAccess(deps, { user: 'U0DAVE', text: 'help' });
    expect(mine).toMatchObject({
      outcome: 'help',
      profiles: [
        {
          name: 'keyturn',
          roleArn: 'arn:aws:iam::123456789012:role/keyturn/people/keyturn-u0dave',
          roleSessionName: 'oncall-dave',
          sourceProfile: { placeholder: 'oncall-dave' },
        },
      ],
    });
    const stranger = await requestAccess(deps, { user: 'U0ZED', text: 'help' });
    expect(stranger).toEqual({
      outcome: 'help',
      targets: [expect.objectContaining({ name: 'prod-raspi' })],
      profiles: [],
    });
    const reply = accessReply(mine, deps.config.aws).text;
    expect(reply).toContain(
      '[profile keyturn]\nrole_arn = arn:aws:iam::123456789012:role/keyturn/people/keyturn-u0dave',
    );
    // One account, one region: the target list names no place.
    expect(reply).not.toContain('123456789012, ap-northeast-1');
  });

  it.each(['constructor', 'toString', '__proto__'])(
    'refuses %p as an unknown target (not a property every object has) and stores nothing',
    async (name) => {
      const { deps, grants, queue } = setup();
      const result = await requestAccess(deps, { user: 'U0ALICE', text: `${name} 1h replace sensor` });
      expect(result).toMatchObject({
        outcome: 'refused',
        refusal: { reason: 'unknown-target', given: name },
      });
      expect(grants.items.size).toBe(0);
      expect(queue.jobs).toEqual([]);
    },
  );

  it('shows one profile per account with targets in help, and where each target is', async () => {
    const { deps } = setup(orgConfig());
    const mine = await requestAccess(deps, { user: 'U0ALICE', text: 'help' });
    expect(mine).toMatchObject({
      outcome: 'help',
      profiles: [
        {
          name: 'keyturn',
          roleArn: `arn:aws:iam::${HOME}:role/keyturn/people/keyturn-u0alice`,
          region: 'ap-northeast-1',
        },
        {
          name: 'keyturn-factory',
          roleArn: `arn:aws:iam::${FACTORY}:role/keyturn/people/keyturn-u0alice`,
          region: 'ap-northeast-3',
        },
      ],
    });
    const reply = accessReply(mine, deps.config.aws).text;
    expect(reply).toContain('add these 2 profiles (one per account)');
    expect(reply).toContain(
      `[profile keyturn-factory]\nrole_arn = arn:aws:iam::${FACTORY}:role/keyturn/people/keyturn-u0alice\nsource_profile = default\nrole_session_name = alice\nregion = ap-northeast-3`,
    );
    expect(reply).toContain('• `prod-raspi` in 123456789012, ap-northeast-1 — ');
    expect(reply).toContain('• `osaka-raspi` in factory (444455556666), ap-northeast-3 — ');
    expect(reply).toContain('• `frankfurt-raspi` in factory (444455556666), eu-central-1 — ');
    // Someone whose grants attach to their own IAM user has no access-role profile to paste.
    const erin = await requestAccess(deps, { user: 'U0ERIN', text: 'help' });
    expect(erin).toMatchObject({ outcome: 'help', profiles: [] });
  });

  it('refuses an attach: direct person a target in a member account, saying what to ask for', async () => {
    const { deps, grants, queue } = setup(orgConfig());
    const result = await requestAccess(deps, { user: 'U0ERIN', text: 'osaka-raspi 1h swap a sensor' });
    expect(result).toMatchObject({
      outcome: 'refused',
      refusal: {
        reason: 'direct-attach-elsewhere',
        targetAccount: 'factory (444455556666)',
        homeAccount: '123456789012',
      },
    });
    expect(grants.items.size).toBe(0);
    expect(queue.jobs).toEqual([]);
    expect(accessReply(result, deps.config.aws).text).toBe(
      "Your grants attach to your own IAM user erin (`attach: direct`), which is in Keyturn's account 123456789012, and `osaka-raspi` is in account factory (444455556666): IAM attaches a policy only to users and roles of its own account. Ask whoever maintains Keyturn's configuration to take `attach: direct` off your entry (`U0ERIN`) under `people:` in keyturn.yml, so your grants go to your Keyturn access role, which the grantor template creates in every member account. Nothing was requested.",
    );
    // In Keyturn's own account their own user is where the grant goes, as before.
    const home = await requestAccess(deps, { user: 'U0ERIN', text: 'prod-raspi 1h check logs' });
    expect(home).toMatchObject({
      outcome: 'requested',
      grant: { principal: { kind: 'user', name: 'erin', path: '/engineering/' }, account: HOME },
    });
  });

  it.each([
    ['', 'help'],
    ['help', 'help'],
  ])('answers %p with help listing the targets', async (text) => {
    const { deps, grants, queue } = setup();
    const result = await requestAccess(deps, { user: 'U0ALICE', text });
    expect(result.outcome).toBe('help');
    if (result.outcome === 'help') expect(result.targets.map((t) => t.name)).toEqual(['prod-raspi']);
    expect(grants.items.size).toBe(0);
    expect(queue.jobs).toEqual([]);
  });

  it.each([
    ['U0NOBODY', 'prod-raspi 1h x', { reason: 'unmapped-user', user: 'U0NOBODY' }],
    ['U0ALICE', 'prod-rasp 1h x', { reason: 'unknown-target', given: 'prod-rasp', suggestion: 'prod-raspi' }],
    ['U0ALICE', 'prod-raspi 5x fix', { reason: 'bad-duration', given: '5x' }],
    ['U0ALICE', 'prod-raspi 0m fix', { reason: 'bad-duration', given: '0m' }],
    // A negative duration was read as part of the reason and the default 1h granted (issue 11).
    ['U0ALICE', 'prod-raspi -1h fix sensor', { reason: 'bad-duration', given: '-1h' }],
    ['U0ALICE', 'prod-raspi -30m fix sensor', { reason: 'bad-duration', given: '-30m' }],
    ['U0ALICE', 'prod-raspi 1.5h fix sensor', { reason: 'bad-duration', given: '1.5h' }],
    ['U0ALICE', 'prod-raspi 90 fix sensor', { reason: 'bad-duration', given: '90' }],
    ['U0ALICE', 'prod-raspi 5h fix', { reason: 'over-max', minutes: 300 }],
    ['U0ALICE', 'prod-raspi 1h', { reason: 'missing-reason' }],
    ['U0ALICE', 'prod-raspi', { reason: 'missing-reason' }],
    ['U0ALICE', `prod-raspi 1h ${'x'.repeat(501)}`, { reason: 'reason-too-long', chars: 501 }],
  ])('refuses %s %p, storing and sending nothing', async (user, text, refusal) => {
    const { deps, grants, queue } = setup();
    const result = await requestAccess(deps, { user, text });
    expect(result).toMatchObject({ outcome: 'refused', refusal });
    expect(grants.items.size).toBe(0);
    expect(queue.jobs).toEqual([]);
  });

  it('refuses a second request while the first is open, naming it', async () => {
    const { deps, grants, queue } = setup();
    await requestAccess(deps, { user: 'U0ALICE', text: 'prod-raspi 1h first' });
    const second = await requestAccess(deps, { user: 'U0ALICE', text: 'prod-raspi 1h second' });
    expect(second).toMatchObject({
      outcome: 'refused',
      refusal: { reason: 'open-grant-exists', existing: { id: 'g1' } },
    });
    expect(grants.items.size).toBe(1);
    expect(queue.jobs).toHaveLength(1);
  });

  it('draws a new id when the first is taken', async () => {
    const { deps, grants } = setup();
    const ids = ['dup', 'dup', 'fresh'];
    deps.newId = () => ids.shift() ?? 'none';
    await requestAccess(deps, { user: 'U0ALICE', text: 'prod-raspi 1h a' });
    const second = await requestAccess(deps, { user: 'U0BOB', text: 'prod-raspi 1h b' });
    expect(second).toMatchObject({ outcome: 'requested', grant: { id: 'fresh' } });
    expect([...grants.items.keys()].sort()).toEqual(['dup', 'fresh']);
  });
});
