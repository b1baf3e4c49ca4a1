import { decideOnGrant } from '../../../src/app/decide';
import { releaseGrant } from '../../../src/app/end-grant';
import { homeView } from '../../../src/app/publish-home';
import { requestAccess } from '../../../src/app/request-access';
import { prodRaspi } from '../../support/fakes';
import { activate, drain, scenario, stagingWeb } from '../../support/grant-scenarios';

const ids = (grants: readonly { id: string }[]) => grants.map((g) => g.id);

describe('homeView: what one person’s Home tab shows', () => {
  it('the requester’s own active and pending grants; an approver’s waiting requests and active grants on their targets', async () => {
    const s = scenario({ targets: { 'prod-raspi': prodRaspi, 'staging-web': stagingWeb } });
    const active = await activate(s);
    const pending = await requestAccess(s.deps, { user: 'U0ALICE', text: 'staging-web 1h deploy' });
    if (pending.outcome !== 'requested') throw new Error('not requested');
    await drain(s);

    const alice = await homeView(s.deps, 'U0ALICE');
    expect([ids(alice.active), ids(alice.pending)]).toEqual([[active.id], [pending.grant.id]]);
    expect(alice.nodes['prod-raspi']?.map((n) => n.id)).toContain('mi-0a1b2c3d4e5f60001');
    expect([alice.waitingForMe, alice.activeOnMyTargets]).toEqual([[], []]);

    // U0DAVE approves both targets through the S0SREGROUP user group.
    const dave = await homeView(s.deps, 'U0DAVE');
    expect([ids(dave.waitingForMe), ids(dave.activeOnMyTargets)]).toEqual([[pending.grant.id], [active.id]]);
    expect([dave.active, dave.pending]).toEqual([[], []]);
  });

  it('a request stops waiting for an approver once they approved it (two approvals needed), and an ending grant leaves the lists', async () => {
    const s = scenario({ targets: { 'prod-raspi': { ...prodRaspi, approvals: 2 } } });
    const asked = await requestAccess(s.deps, { user: 'U0ALICE', text: 'prod-raspi 1h replace sensor' });
    if (asked.outcome !== 'requested') throw new Error('not requested');
    await decideOnGrant(s.deps, { grantId: asked.grant.id, clicker: 'U0CAROL', action: 'approve' });
    expect(ids((await homeView(s.deps, 'U0CAROL')).waitingForMe)).toEqual([]);
    expect(ids((await homeView(s.deps, 'U0DAVE')).waitingForMe)).toEqual([asked.grant.id]);

    await decideOnGrant(s.deps, { grantId: asked.grant.id, clicker: 'U0DAVE', action: 'approve' });
    await drain(s);
    expect(ids((await homeView(s.deps, 'U0CAROL')).activeOnMyTargets)).toEqual([asked.grant.id]);
    s.queue.jobs.length = 0;
    await releaseGrant(s.deps, { user: 'U0ALICE' });
    // Asked to end, not yet revoked: already off the Home tab, so nobody clicks [Revoke] or [Extend] on it.
    expect((await homeView(s.deps, 'U0ALICE')).active).toEqual([]);
    expect((await homeView(s.deps, 'U0CAROL')).activeOnMyTargets).toEqual([]);
  });
});
