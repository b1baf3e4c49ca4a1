import {
  ACTION_APPROVE,
  ACTION_CANCEL,
  ACTION_DENY,
  ACTION_EXTEND,
  ACTION_EXTENSION_APPROVE,
  ACTION_EXTENSION_DENY,
  ACTION_RELEASE,
  ACTION_REVOKE,
  BLOCK_DENY_REASON,
  INPUT_DENY_REASON,
  VIEW_EXTENSION_DENY_REASON,
} from '../../src/adapters/slack/action-ids';
import { type Harness, startHarness } from '../support/harness';
import { appHomeOpened, homeButtonClick, viewSubmission } from '../support/slack-requests';

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

  /** alice has an active grant and asks for 30 minutes more: the approvers' Home tabs list it. */
  async function extensionAsked() {
    const { grantId, grant } = await h.activeGrant();
    expect(await h.command('U0ALICE', `extend ${grantId} 30m`)).toContain('Asked the approvers');
    return { grantId, oldExpiry: grant.expiresAt as string };
  }

  const plusMinutes = (iso: string, minutes: number) =>
    new Date(Date.parse(iso) + minutes * 60_000).toISOString().replace('.000', '');

  it('a pending extension shows on the approvers’ Home with [Approve] [Deny]; a double click on [Approve] extends exactly once', async () => {
    const { grantId, oldExpiry } = await extensionAsked();
    const asked = [
      [ACTION_EXTENSION_APPROVE, grantId],
      [ACTION_EXTENSION_DENY, grantId],
      [ACTION_REVOKE, grantId],
    ];
    expect(buttons('U0CAROL')).toEqual(asked);
    // U0DAVE approves through the S0SREGROUP user group.
    expect(buttons('U0DAVE')).toEqual(asked);
    expect(text('U0CAROL')).toMatch(
      /asks for 30m more on \*prod-raspi\* · `[a-z0-9]+` · now until <!date\^\d+\^/,
    );
    expect(text('U0ALICE')).toContain('30m more asked, waiting for approval');
    const dmsBefore = h.slack.api.dmsTo('U0CAROL').length;

    // Two clicks at once, as a double click sends them: one conditional write approves, the other is refused.
    const click = () =>
      h.send(homeButtonClick({ user: 'U0CAROL', actionId: ACTION_EXTENSION_APPROVE, value: grantId }));
    const answers = await Promise.all([click(), click()]);
    expect(answers.map((r) => r.status)).toEqual([200, 200]);
    await h.keyturn.queue.idle();

    const grant = await h.keyturn.deps.grants.get(grantId);
    expect(grant?.expiresAt).toBe(plusMinutes(oldExpiry, 30));
    expect(grant?.extension?.state).toBe('extended');
    const events = (grant?.history ?? [])
      .map((e) => e.event)
      .filter((e) => e?.startsWith('extension') || e === 'extended');
    expect(events).toEqual(['extension-requested', 'extension-approved', 'extended']);
    expect(h.account.calls.filter((c) => c.op === 'createPolicyVersion')).toHaveLength(1);
    // The losing click is answered in the app's DM (Home has no channel); it approves nothing.
    const answered = h.slack.api.dmsTo('U0CAROL').slice(dmsBefore);
    expect(answered.map((m) => m.text)).toEqual([
      expect.stringMatching(/no longer waiting for a decision. Nothing changed/),
    ]);

    // Republished once decided: nothing left to decide, the grant still revocable, alice told her new expiry.
    expect(buttons('U0CAROL')).toEqual([[ACTION_REVOKE, grantId]]);
    expect(buttons('U0DAVE')).toEqual([[ACTION_REVOKE, grantId]]);
    expect(text('U0ALICE')).not.toContain('more asked');
    expect(text('U0ALICE')).toContain(`|${plusMinutes(oldExpiry, 30)}>`);
  });

  it('[Deny] on a pending extension in the Home tab opens the extension’s deny-reason modal, and submitting it denies', async () => {
    const { grantId, oldExpiry } = await extensionAsked();
    expect(buttons('U0DAVE')).toContainEqual([ACTION_EXTENSION_DENY, grantId]);
    await h.send(homeButtonClick({ user: 'U0DAVE', actionId: ACTION_EXTENSION_DENY, value: grantId }));
    await h.keyturn.queue.idle();
    expect(h.slack.api.views.map((v) => v.view.callback_id)).toEqual([VIEW_EXTENSION_DENY_REASON]);

    await h.send(
      viewSubmission({
        user: 'U0DAVE',
        callbackId: VIEW_EXTENSION_DENY_REASON,
        privateMetadata: grantId,
        values: {
          [BLOCK_DENY_REASON]: { [INPUT_DENY_REASON]: { type: 'plain_text_input', value: 'wrap up' } },
        },
      }),
    );
    await h.keyturn.queue.idle();
    const grant = await h.keyturn.deps.grants.get(grantId);
    expect([grant?.extension?.state, grant?.expiresAt]).toEqual(['denied', oldExpiry]);
    expect(buttons('U0DAVE')).toEqual([[ACTION_REVOKE, grantId]]);
    expect(text('U0ALICE')).not.toContain('more asked');
  });
});
