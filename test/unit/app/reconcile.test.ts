import { reconcile } from '../../../src/app/reconcile';
import { sweep } from '../../../src/app/sweep';
import type { PolicyDocument } from '../../../src/domain/policy-document';
import {
  activate,
  alice,
  approve,
  at,
  bob,
  dave,
  drain,
  keyturnPolicies,
  notices,
  policyArnOf,
  RASPI_NODE,
  type Scenario,
  scenario,
  stored,
} from '../../support/grant-scenarios';
import { FACTORY, organisation } from '../../support/places';
import { grantPolicyArn } from '../../../src/app/grant-policy';

const SETTLE_MS = 15 * 60_000;

const ANY_SESSION: PolicyDocument = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: 'ssm:StartSession', Resource: '*' }],
};

/** A policy made by hand (or by a crashed worker), attached to `to`. */
async function handMade(s: Scenario, path: string, name: string, to: (typeof alice)[]): Promise<string> {
  const { arn } = await s.account.createPolicy({
    name,
    path,
    description: 'made outside Keyturn',
    document: ANY_SESSION,
    tags: {},
  });
  for (const principal of to) await s.account.attachPolicy(principal, arn);
  s.account.calls.length = 0;
  return arn;
}

/** Calls that named this ARN at all, in any argument. */
function touched(s: Scenario, arn: string): string[] {
  return s.account.calls.filter((c) => JSON.stringify(c.args).includes(arn)).map((c) => c.op);
}

describe('reconcile: orphan policies', () => {
  it('detaches a /keyturn/ policy no grant explains from everyone, deletes it and reports it', async () => {
    const s = scenario();
    await activate(s);
    const orphan = await handMade(s, '/keyturn/', 'keyturn-zz99', [bob, dave]);
    const breakGlass = await handMade(s, '/keyturn/', 'break-glass', [bob]);

    const report = await reconcile(s.deps);

    expect(report.orphansRemoved.sort()).toEqual([breakGlass, orphan].sort());
    expect(s.account.policyArns()).not.toContain(orphan);
    expect(s.account.policyArns()).not.toContain(breakGlass);
    expect(s.account.attachedPolicies(bob)).toEqual([]);
    expect(s.account.attachedPolicies(dave)).toEqual([]);
    expect(s.chat.audits).toEqual(
      expect.arrayContaining([
        {
          channel: 'C0AUDIT',
          event: {
            kind: 'orphan-policy-removed',
            policyArn: orphan,
            grantId: 'zz99',
            detachedFrom: [
              { kind: 'role', name: 'keyturn-u0bob' },
              { kind: 'role', name: 'keyturn-u0dave' },
            ],
          },
        },
        {
          channel: 'C0AUDIT',
          event: {
            kind: 'orphan-policy-removed',
            policyArn: breakGlass,
            detachedFrom: [{ kind: 'role', name: 'keyturn-u0bob' }],
          },
        },
      ]),
    );
    expect(s.chat.audits).toHaveLength(2);
    // The active grant's own policy is explained, and stays.
    expect(s.account.attachedPolicies(alice)).toEqual([policyArnOf(s, 'g1')]);
    expect(touched(s, policyArnOf(s, 'g1'))).toEqual([]);
  });

  it('never touches a policy outside /keyturn/, even one named like ours', async () => {
    const s = scenario();
    const lookalike = await handMade(s, '/team/', 'keyturn-g7', [alice]);
    const rootPath = await handMade(s, '/', 'ReadOnlyHelpers', [alice, bob]);

    const report = await reconcile(s.deps);

    expect(report).toEqual({ orphansRemoved: [], missingPolicies: [] });
    expect(s.account.policyArns().sort()).toEqual([lookalike, rootPath].sort());
    expect(s.account.attachedPolicies(alice).sort()).toEqual([lookalike, rootPath].sort());
    expect(s.account.attachedPolicies(bob)).toEqual([rootPath]);
    expect(touched(s, lookalike)).toEqual([]);
    expect(touched(s, rootPath)).toEqual([]);
    expect(s.account.calls.map((c) => c.op)).toEqual(['listPolicies']);
    expect(s.chat.audits).toEqual([]);
  });

  it('keeps the policy of an approved grant being applied; removes one left behind by an ended grant', async () => {
    const s = scenario();
    await activate(s, { user: 'U0ALICE' });
    at(s, '2026-11-23T11:00:00Z');
    await sweep(s.deps);
    expect((await stored(s, 'g1')).status).toBe('expired');
    // A late worker re-created the expired grant's policy; meanwhile bob's grant is mid-apply.
    const leftover = await handMade(s, '/keyturn/', 'keyturn-g1', [alice]);
    await approve(s, { user: 'U0BOB' });
    const applying = await handMade(s, '/keyturn/', 'keyturn-g2', [bob]);

    const report = await reconcile(s.deps);

    expect(report.orphansRemoved).toEqual([leftover]);
    expect(s.account.policyArns()).toEqual([applying]);
    expect(s.account.attachedPolicies(alice)).toEqual([]);
    expect(s.account.attachedPolicies(bob)).toEqual([applying]);
    expect(s.chat.audits.map((a) => a.event)).toEqual([
      {
        kind: 'orphan-policy-removed',
        policyArn: leftover,
        grantId: 'g1',
        detachedFrom: [{ kind: 'role', name: 'keyturn-u0alice' }],
      },
    ]);
  });

  it('leaves a just-failed grant’s policy to its own worker for 15 minutes, then removes it', async () => {
    const s = scenario();
    await approve(s);
    s.account.setPropagationDelay(1_000);
    await drain(s);
    const failed = await stored(s, 'g1');
    expect(failed.status).toBe('failed');
    s.account.setPropagationDelay(0);
    const failedAt = Date.parse(failed.history.at(-1)!.at);
    const late = await handMade(s, '/keyturn/', 'keyturn-g1', [alice]);

    s.clock.set(new Date(failedAt + SETTLE_MS).toISOString());
    expect((await reconcile(s.deps)).orphansRemoved).toEqual([]);
    expect(s.account.attachedPolicies(alice)).toEqual([late]);

    s.clock.set(new Date(failedAt + SETTLE_MS + 1_000).toISOString());
    expect((await reconcile(s.deps)).orphansRemoved).toEqual([late]);
    expect(s.account.attachedPolicies(alice)).toEqual([]);
    expect(keyturnPolicies(s)).toEqual([]);
  });

  it('runs inside the sweep only when asked', async () => {
    const s = scenario();
    const orphan = await handMade(s, '/keyturn/', 'keyturn-zz99', [bob]);

    await sweep(s.deps);
    expect(s.account.calls.map((c) => c.op)).not.toContain('listPolicies');
    expect(s.account.policyArns()).toEqual([orphan]);

    await sweep(s.deps, { reconcile: true });
    expect(s.account.policyArns()).toEqual([]);
    expect(s.chat.audits.map((a) => a.event.kind)).toEqual(['orphan-policy-removed']);
  });

  it('reports an orphan once when two sweepers reconcile at once', async () => {
    const s = scenario();
    const orphan = await handMade(s, '/keyturn/', 'keyturn-zz99', [bob, dave]);

    const reports = await Promise.all([reconcile(s.deps), reconcile(s.deps)]);

    expect(reports.flatMap((r) => r.orphansRemoved)).toEqual([orphan]);
    expect(s.account.policyArns()).toEqual([]);
    expect(s.chat.audits).toHaveLength(1);
    expect(s.chat.audits[0]?.event).toMatchObject({
      kind: 'orphan-policy-removed',
      detachedFrom: [
        { kind: 'role', name: 'keyturn-u0bob' },
        { kind: 'role', name: 'keyturn-u0dave' },
      ],
    });
  });
});

describe('reconcile: an active grant whose policy vanished', () => {
  async function vanished() {
    const s = scenario();
    await activate(s);
    const arn = policyArnOf(s, 'g1');
    const session = await s.account.startSession(alice, RASPI_NODE);
    if (!session.ok) throw new Error('no session');
    // Someone removes the policy by hand.
    await s.account.detachPolicy(alice, arn);
    await s.account.deletePolicy(arn);
    s.account.calls.length = 0;
    s.chat.notices.length = 0;
    return { s, arn, sessionId: session.session.id };
  }

  it('is left alone within 15 minutes of activation: IAM listings may lag', async () => {
    const { s, sessionId } = await vanished();
    at(s, '2026-11-23T10:15:00Z');

    expect(await reconcile(s.deps)).toEqual({ orphansRemoved: [], missingPolicies: [] });

    const grant = await stored(s, 'g1');
    expect(grant.status).toBe('active');
    expect(grant.ending).toBeUndefined();
    expect(s.chat.audits).toEqual([]);
    expect((await s.account.activeSessions()).map((x) => x.id)).toEqual([sessionId]);
  });

  it('is ended as failed after 15 minutes: audited once, sessions terminated, ended DM', async () => {
    const { s, sessionId } = await vanished();
    at(s, '2026-11-23T10:15:01Z');

    expect(await reconcile(s.deps)).toEqual({ orphansRemoved: [], missingPolicies: ['g1'] });

    const grant = await stored(s, 'g1');
    expect(grant).toMatchObject({
      status: 'failed',
      failureReason: 'its IAM policy was removed outside Keyturn',
      ending: { status: 'failed', by: 'keyturn' },
      sessionsEnded: 1,
    });
    expect(grant.history.at(-1)).toMatchObject({ from: 'active', to: 'failed', by: 'keyturn' });
    expect(s.chat.audits).toEqual([
      {
        channel: 'C0AUDIT',
        event: { kind: 'policy-missing', grant: expect.objectContaining({ id: 'g1', status: 'active' }) },
      },
    ]);
    expect(await s.account.activeSessions()).toEqual([]);
    expect(s.account.sessionHistory().map((h) => h.id)).toEqual([sessionId]);
    await drain(s);
    expect(notices(s, 'ended', 'g1')).toHaveLength(1);

    at(s, '2026-11-23T10:30:00Z');
    expect(await reconcile(s.deps)).toEqual({ orphansRemoved: [], missingPolicies: [] });
    expect(s.chat.audits).toHaveLength(1);
  });

  it('is audited once when two sweepers reconcile at once', async () => {
    const { s } = await vanished();
    at(s, '2026-11-23T10:20:00Z');

    const reports = await Promise.all([reconcile(s.deps), reconcile(s.deps)]);

    expect(reports.flatMap((r) => r.missingPolicies)).toEqual(['g1']);
    expect(s.chat.audits.map((a) => a.event.kind)).toEqual(['policy-missing']);
    const grant = await stored(s, 'g1');
    expect(grant.status).toBe('failed');
    expect(grant.history.filter((h) => h.to === 'failed')).toHaveLength(1);
  });
});

describe('reconcile: one account at a time', () => {
  it('removes a policy in account B named for an active grant of another account: it explains nothing there', async () => {
    const o = organisation();
    const home = await activate(o, { user: 'U0ALICE', text: 'prod-raspi 1h replace sensor' });
    const factory = await activate(o, { user: 'U0BOB', text: 'factory-raspi 1h replace sensor' });
    o.clock.advance(SETTLE_MS + 60_000);
    // In B, a policy named for the home grant (made by hand, or by a worker that acted in the wrong account).
    const { arn: stray } = await o.factory.createPolicy({
      name: `keyturn-${home.id}`,
      path: '/keyturn/',
      description: 'made outside Keyturn',
      document: ANY_SESSION,
      tags: {},
    });
    await o.factory.attachPolicy(alice, stray);

    const report = await reconcile(o.deps, FACTORY.accountId);
    expect(report).toEqual({ orphansRemoved: [stray], missingPolicies: [] });
    expect(o.factory.attachedPolicies(alice)).toEqual([]);
    // The factory grant's own policy stays; the home grant and its policy at home are not touched.
    expect(o.factory.policyArns()).toEqual([
      grantPolicyArn({ partition: 'aws', accountId: FACTORY.accountId }, factory.id),
    ]);
    expect((await stored(o, home.id)).status).toBe('active');
    expect(o.account.attachedPolicies(alice)).toEqual([policyArnOf(o, home.id)]);
    // Reconciling the home account judges only its own: nothing to remove.
    expect(await reconcile(o.deps)).toEqual({ orphansRemoved: [], missingPolicies: [] });
  });
});
