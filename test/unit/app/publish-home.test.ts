import { decideOnGrant } from '../../../src/app/decide';
import { releaseGrant } from '../../../src/app/end-grant';
import { decideOnExtension, requestExtension } from '../../../src/app/extend-grant';
import { homeView } from '../../../src/app/publish-home';
import { requestAccess } from '../../../src/app/request-access';
import { prodRaspi } from '../../support/fakes';
import { activate, drain, type Scenario, scenario, stagingWeb } from '../../support/grant-scenarios';

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

  describe('pending extensions', () => {
    /** The Home tab last published for `user` (views.publish), as the worker sent it. */
    const published = (s: Scenario, user: string) => s.chat.homes.filter((h) => h.user === user).at(-1)?.view;

    async function extending(s: Scenario, minutes = '30m') {
      const grant = await activate(s);
      s.chat.homes.length = 0;
      const asked = await requestExtension(s.deps, {
        user: 'U0ALICE',
        grantId: grant.id,
        durationText: minutes,
      });
      if (asked.outcome !== 'requested') throw new Error(`not requested: ${JSON.stringify(asked)}`);
      await drain(s);
      return asked.grant;
    }

    it('asking for more time republishes the approvers’ Home tabs with the extension waiting for them, and the requester’s with it asked', async () => {
      const s = scenario();
      const grant = await extending(s);

      // carol is a listed approver, dave one through S0SREGROUP: both are asked.
      for (const approver of ['U0CAROL', 'U0DAVE']) {
        expect(ids(published(s, approver)?.extensionsWaitingForMe ?? [])).toEqual([grant.id]);
        expect(ids(published(s, approver)?.activeOnMyTargets ?? [])).toEqual([grant.id]);
      }
      const alice = published(s, 'U0ALICE');
      expect(alice?.extensionsWaitingForMe).toEqual([]);
      expect(alice?.active.map((g) => [g.id, g.extension?.state])).toEqual([[grant.id, 'pending']]);
      expect(published(s, 'U0BOB')).toBeUndefined();
    });

    it('once approved and applied, the extension leaves every approver’s tab (republished), and the grant shows its new expiry', async () => {
      const s = scenario();
      const grant = await extending(s);
      s.chat.homes.length = 0;
      await decideOnExtension(s.deps, { grantId: grant.id, clicker: 'U0DAVE', action: 'approve' });
      await drain(s);

      for (const approver of ['U0CAROL', 'U0DAVE'])
        expect(published(s, approver)?.extensionsWaitingForMe).toEqual([]);
      const alice = published(s, 'U0ALICE');
      expect(alice?.active.map((g) => [g.extension?.state, g.expiresAt])).toEqual([
        ['extended', '2026-11-23T11:30:00Z'],
      ]);
    });

    it('a denied extension leaves the list; an approver who already approved one of two is no longer asked', async () => {
      const s = scenario({ targets: { 'prod-raspi': { ...prodRaspi, approvals: 2 } } });
      const requested = await requestAccess(s.deps, {
        user: 'U0ALICE',
        text: 'prod-raspi 1h replace sensor',
      });
      if (requested.outcome !== 'requested') throw new Error('not requested');
      await decideOnGrant(s.deps, { grantId: requested.grant.id, clicker: 'U0CAROL', action: 'approve' });
      await decideOnGrant(s.deps, { grantId: requested.grant.id, clicker: 'U0DAVE', action: 'approve' });
      await drain(s);
      const asked = await requestExtension(s.deps, { user: 'U0ALICE', grantId: requested.grant.id });
      if (asked.outcome !== 'requested') throw new Error(`not requested: ${JSON.stringify(asked)}`);

      await decideOnExtension(s.deps, { grantId: asked.grant.id, clicker: 'U0CAROL', action: 'approve' });
      expect(ids((await homeView(s.deps, 'U0CAROL')).extensionsWaitingForMe)).toEqual([]);
      expect(ids((await homeView(s.deps, 'U0DAVE')).extensionsWaitingForMe)).toEqual([asked.grant.id]);

      await decideOnExtension(s.deps, { grantId: asked.grant.id, clicker: 'U0DAVE', action: 'deny' });
      expect((await homeView(s.deps, 'U0DAVE')).extensionsWaitingForMe).toEqual([]);
    });

    it('a grant asked to end takes its pending extension off the tab; an approver who may self-approve sees their own', async () => {
      const s = scenario();
      const grant = await extending(s);
      await releaseGrant(s.deps, { user: 'U0ALICE', grantId: grant.id });
      expect((await homeView(s.deps, 'U0CAROL')).extensionsWaitingForMe).toEqual([]);

      const self = scenario({ targets: { 'prod-raspi': { ...prodRaspi, selfApproval: true } } });
      const own = await activate(self, { user: 'U0CAROL' });
      await requestExtension(self.deps, { user: 'U0CAROL', grantId: own.id });
      expect(ids((await homeView(self.deps, 'U0CAROL')).extensionsWaitingForMe)).toEqual([own.id]);
      // Without selfApproval, the requester is never asked to decide their own extension.
      const other = scenario();
      const asked = await requestAccess(other.deps, {
        user: 'U0CAROL',
        text: 'prod-raspi 1h replace sensor',
      });
      if (asked.outcome !== 'requested') throw new Error('not requested');
      await decideOnGrant(other.deps, { grantId: asked.grant.id, clicker: 'U0DAVE', action: 'approve' });
      await drain(other);
      const theirs = asked.grant;
      await requestExtension(other.deps, { user: 'U0CAROL', grantId: theirs.id });
      expect((await homeView(other.deps, 'U0CAROL')).extensionsWaitingForMe).toEqual([]);
      expect(ids((await homeView(other.deps, 'U0DAVE')).extensionsWaitingForMe)).toEqual([theirs.id]);
    });
  });
});
