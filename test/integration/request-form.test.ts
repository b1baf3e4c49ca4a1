import {
  BLOCK_REQUEST_DURATION,
  BLOCK_REQUEST_REASON,
  BLOCK_REQUEST_TARGET,
  INPUT_REQUEST_DURATION,
  INPUT_REQUEST_REASON,
  INPUT_REQUEST_TARGET,
  SHORTCUT_REQUEST_ACCESS,
  VIEW_REQUEST_FORM,
} from '../../src/adapters/slack/action-ids';
import { prodRaspi, testConfig } from '../support/fakes';
import { stagingWeb } from '../support/grant-scenarios';
import { type Harness, startHarness, textOf } from '../support/harness';
import { globalShortcut, slashCommand, viewSubmission } from '../support/slack-requests';

interface Select {
  options: { text: { text: string }; value: string; description?: { text: string } }[];
  initial_option?: { value: string };
}
interface InputBlock {
  type: string;
  block_id: string;
  optional?: boolean;
  element: Select & { type: string };
}

function formValues(target: string | undefined, duration: string, reason: string) {
  return {
    [BLOCK_REQUEST_TARGET]: {
      [INPUT_REQUEST_TARGET]: {
        type: 'static_select',
        selected_option:
          target === undefined ? null : { value: target, text: { type: 'plain_text', text: target } },
      },
    },
    [BLOCK_REQUEST_DURATION]: {
      [INPUT_REQUEST_DURATION]: {
        type: 'static_select',
        selected_option: { value: duration, text: { type: 'plain_text', text: duration } },
      },
    },
    [BLOCK_REQUEST_REASON]: { [INPUT_REQUEST_REASON]: { type: 'plain_text_input', value: reason } },
  };
}

describe('the request form (bare /access, the "Request access" shortcut)', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness({
      config: testConfig({
        targets: { 'prod-raspi': prodRaspi, 'staging-web': { ...stagingWeb, maxDurationMinutes: 480 } },
      }),
    });
  });
  afterEach(async () => {
    await h.close();
  });

  // Each opened form is a view of its own; a view fixed after field errors is submitted again under its id.
  let views = 0;
  const submit = async (values: unknown, user = 'U0ALICE', viewId = `V0FORM${++views}`) => {
    const res = await h.send(
      viewSubmission({ user, callbackId: VIEW_REQUEST_FORM, privateMetadata: '', values, viewId }),
    );
    await h.keyturn.queue.idle();
    return { status: res.status, body: res.body ? (JSON.parse(res.body) as Record<string, unknown>) : {} };
  };

  it('a bare /access opens the form with the trigger id: targets with descriptions and limits, the default preselected, a required reason', async () => {
    const res = await h.send(slashCommand('U0ALICE', '', '/access', 'C0WORK', { triggerId: '1.2.form' }));
    expect(res.status).toBe(200);
    expect(res.body).toBe('');

    expect(h.slack.api.views).toHaveLength(1);
    const opened = h.slack.api.views[0];
    expect(opened?.triggerId).toBe('1.2.form');
    expect(opened?.view.callback_id).toBe(VIEW_REQUEST_FORM);
    const blocks = opened?.view.blocks as InputBlock[];
    expect(blocks.map((b) => [b.block_id, b.optional ?? false])).toEqual([
      [BLOCK_REQUEST_TARGET, false],
      [BLOCK_REQUEST_DURATION, false],
      [BLOCK_REQUEST_REASON, false],
    ]);
    const targets = blocks[0]?.element.options ?? [];
    expect(targets.map((o) => [o.value, o.description?.text])).toEqual([
      ['prod-raspi', 'Production Raspberry Pi fleet · default 1h, up to 4h'],
      ['staging-web', 'Staging web servers · default 1h, up to 8h'],
    ]);
    const duration = blocks[1]?.element;
    expect(duration?.initial_option?.value).toBe('default');
    expect(duration?.options.map((o) => o.value)).toEqual([
      'default',
      '15m',
      '30m',
      '1h',
      '2h',
      '3h',
      '4h',
      '6h',
      '8h',
    ]);
    expect(h.slack.api.messagesIn('C0APPROVALS')).toHaveLength(0);
  });

  it('the "Request access" global shortcut opens the same form', async () => {
    const res = await h.send(
      globalShortcut({ user: 'U0ALICE', callbackId: SHORTCUT_REQUEST_ACCESS, triggerId: '9.9.x' }),
    );
    expect(res.status).toBe(200);
    expect(h.slack.api.views.map((v) => [v.triggerId, v.view.callback_id])).toEqual([
      ['9.9.x', VIEW_REQUEST_FORM],
    ]);
  });

  it('submitting takes the same path as the typed command: a pending grant, its card, and the form says where it went', async () => {
    const { status, body } = await submit(formValues('staging-web', '2h', 'deploy the hotfix'));
    expect(status).toBe(200);
    expect(body.response_action).toBe('update');
    expect(JSON.stringify(body.view)).toMatch(/Request `[a-z0-9]+` sent to <#C0APPROVALS>/);

    const cards = h.slack.api.messagesIn('C0APPROVALS');
    expect(cards).toHaveLength(1);
    expect(textOf(cards[0])).toContain('deploy the hotfix');
    const [grant] = await h.keyturn.deps.grants.listByRequester('U0ALICE');
    expect(grant).toMatchObject({ target: 'staging-web', durationMinutes: 120, status: 'pending' });
  });

  it("the default duration option gives the picked target's default", async () => {
    await submit(formValues('prod-raspi', 'default', 'replace sensor'));
    const [grant] = await h.keyturn.deps.grants.listByRequester('U0ALICE');
    expect(grant).toMatchObject({ target: 'prod-raspi', durationMinutes: 60, reason: 'replace sensor' });
  });

  it('a duration over the picked target’s maximum is answered on the duration field and stores nothing', async () => {
    const { body } = await submit(formValues('prod-raspi', '8h', 'long job'));
    expect(body).toEqual({
      response_action: 'errors',
      errors: { [BLOCK_REQUEST_DURATION]: 'prod-raspi allows at most 4h; pick 4h or less.' },
    });
    expect(await h.keyturn.deps.grants.listByRequester('U0ALICE')).toEqual([]);
    expect(h.slack.api.messagesIn('C0APPROVALS')).toHaveLength(0);
  });

  it('a blank reason is answered on the reason field; a second open request on the target field', async () => {
    const blank = await submit(formValues('prod-raspi', '1h', '   '));
    expect(Object.keys((blank.body.errors ?? {}) as object)).toEqual([BLOCK_REQUEST_REASON]);

    await submit(formValues('prod-raspi', '1h', 'first'));
    const again = await submit(formValues('prod-raspi', '1h', 'second'));
    expect(again.body.response_action).toBe('errors');
    expect((again.body.errors as Record<string, string>)[BLOCK_REQUEST_TARGET]).toMatch(
      /^You already have request [a-z0-9]+ for prod-raspi \(pending\)/,
    );
    expect(await h.keyturn.deps.grants.listByRequester('U0ALICE')).toHaveLength(1);
  });

  it('a form fixed after a field error is taken; the same submission delivered again opens no second request', async () => {
    const blank = await submit(formValues('prod-raspi', '1h', '   '), 'U0ALICE', 'V0SAME');
    expect(Object.keys((blank.body.errors ?? {}) as object)).toEqual([BLOCK_REQUEST_REASON]);
    const fixed = await submit(formValues('prod-raspi', '1h', 'fix sensor'), 'U0ALICE', 'V0SAME');
    expect(fixed.body.response_action).toBe('update');

    // A replay of the accepted submission (same view): answered, and nothing new stored.
    const replay = await submit(formValues('prod-raspi', '1h', 'fix sensor'), 'U0ALICE', 'V0SAME');
    expect(replay.body.response_action).toBe('errors');
    expect((replay.body.errors as Record<string, string>)[BLOCK_REQUEST_TARGET]).toMatch(
      /^Slack delivered this form twice; it was answered once with request [a-z0-9]+ \(pending\)/,
    );
    expect(await h.keyturn.deps.grants.listByRequester('U0ALICE')).toHaveLength(1);
  });

  it('a crafted submission naming no configured target is refused on the target field', async () => {
    const { body } = await submit(formValues('prod-everything', '1h', 'x'));
    expect((body.errors as Record<string, string>)[BLOCK_REQUEST_TARGET]).toContain('prod-everything');
  });

  it('/access help still answers with the text help, and an unmapped person gets the refusal, not a form', async () => {
    expect(await h.command('U0ALICE', 'help')).toMatch(/^Usage: `\/access <target> \[duration\] <reason>`/);
    expect(await h.command('U0NOBODY', '')).toMatch(/are not mapped to an AWS identity/);
    expect(h.slack.api.views).toEqual([]);
  });
});
