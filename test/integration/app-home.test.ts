import {
  ACTION_APPROVE,
  ACTION_CANCEL,
  ACTION_DENY,
  ACTION_EXTEND,
  ACTION_RELEASE,
  ACTION_REVOKE,
} from '../../src/adapters/slack/action-ids';
import { type Harness, startHarness } from '../support/harness';
import { appHomeOpened, homeButtonClick } from '../support/slack-requests';

interface Block {
  type: string;
  text?: { text: string };
  elements?: { action_id?: string; value?: string }[];
}

describe('App Home over the real HTTP server with signed Slack requests', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  const home = (user: string) => (h.slack.api.homes.get(user)?.blocks ?? []) as Block[];
  const buttons = (user: string) =>
    home(user)
      .filter((b) => b.type === 'actions')
      .flatMap((b) => (b.elements ?? []).map((e) => [e.action_id, e.value] as const));
  const text = (user: string) => JSON.stringify(home(user));

  it('opening the Home tab publishes it: own grants with expiry and nodes, [I’m done] [Extend]', async () => {
    const { grantId } = await h.activeGrant();
    h.slack.api.homes.clear();

    const res = await h.send(appHomeOpened('U0ALICE'), { contentType: 'application/json' });
    expect(res.status).toBe(200);
    await h.keyturn.queue.idle();

    expect(buttons('U0ALICE')).toEqual([
      [ACTION_RELEASE, grantId],
      [ACTION_EXTEND, grantId],
    ]);
    expect(text('U0ALICE')).toMatch(/until <!date\^\d+\^/);
    expect(text('U0ALICE')).toContain('raspi-line-1');
  });

  it('a request republishes the requester’s Home ([Cancel]) and the approvers’ ([Approve] [Deny]), user groups included', async () => {
    const { grantId } = await h.request();
    expect(buttons('U0ALICE')).toEqual([[ACTION_CANCEL, grantId]]);
    expect(buttons('U0CAROL')).toEqual([
      [ACTION_APPROVE, grantId],
      [ACTION_DENY, grantId],
    ]);
    // U0DAVE approves through the S0SREGROUP user group.
    expect(buttons('U0DAVE')).toEqual(buttons('U0CAROL'));
  });

  it('approving moves it to the approvers’ active list with [Revoke], and [Revoke] there ends the grant', async () => {
    const { grantId } = await h.activeGrant();
    expect(buttons('U0CAROL')).toEqual([[ACTION_REVOKE, grantId]]);

    const res = await h.send(homeButtonClick({ user: 'U0CAROL', actionId: ACTION_REVOKE, value: grantId }));
    expect(res.status).toBe(200);
    await h.keyturn.queue.idle();

    expect((await h.keyturn.deps.grants.get(grantId))?.status).toBe('revoked');
    expect(buttons('U0CAROL')).toEqual([]);
    expect(buttons('U0ALICE')).toEqual([]);
  });

  it('[Cancel] on the Home tab withdraws the request; a refused click is answered in the app’s DM', async () => {
    const { grantId } = await h.request();
    await h.send(homeButtonClick({ user: 'U0ALICE', actionId: ACTION_CANCEL, value: grantId }));
    await h.keyturn.queue.idle();
    expect((await h.keyturn.deps.grants.get(grantId))?.status).toBe('cancelled');
    expect(buttons('U0ALICE')).toEqual([]);
    expect(buttons('U0CAROL')).toEqual([]);

    await h.send(homeButtonClick({ user: 'U0BOB', actionId: ACTION_REVOKE, value: grantId }));
    await h.keyturn.queue.idle();
    const dm = h.slack.api.dmsTo('U0BOB');
    expect(dm).toHaveLength(1);
    expect(dm[0]?.text).toMatch(/approver/);
  });
});
