import {
  BLOCK_RUN_PARAM_PREFIX,
  BLOCK_RUN_PICK,
  INPUT_RUN_PARAM,
  INPUT_RUN_PICK,
  VIEW_RUN_FORM,
  VIEW_RUN_PARAMS,
} from '../../src/adapters/slack/action-ids';
import { type Harness, startHarness } from '../support/harness';
import { runConfig } from '../support/run-scenarios';
import { slashCommand, viewSubmission } from '../support/slack-requests';

interface Block {
  block_id: string;
  optional?: boolean;
  hint?: { text: string };
  element: {
    type: string;
    initial_value?: string;
    options?: { value: string; description?: { text: string } }[];
  };
}

const pick = (value: string) => ({
  [BLOCK_RUN_PICK]: { [INPUT_RUN_PICK]: { type: 'static_select', selected_option: { value } } },
});
const params = (values: Record<string, string>) =>
  Object.fromEntries(
    Object.entries(values).map(([name, value]) => [
      `${BLOCK_RUN_PARAM_PREFIX}${name}`,
      { [INPUT_RUN_PARAM]: { type: 'plain_text_input', value } },
    ]),
  );

describe('the run form (bare /run)', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness({ config: runConfig() });
  });
  afterEach(async () => {
    await h.close();
  });

  const submit = async (callbackId: string, privateMetadata: string, values: unknown, viewId: string) => {
    const res = await h.send(viewSubmission({ user: 'U0DAVE', callbackId, privateMetadata, values, viewId }));
    await h.keyturn.queue.idle();
    return (res.body ? JSON.parse(res.body) : {}) as {
      response_action?: string;
      errors?: Record<string, string>;
      view?: { callback_id?: string; private_metadata?: string; blocks: Block[] };
    };
  };

  it('a bare /run opens the form listing only the snippets on targets the person may run now', async () => {
    const res = await h.send(slashCommand('U0DAVE', '', '/run', 'C0WORK', { triggerId: '5.5.run' }));
    expect(res.body).toBe('');
    const opened = h.slack.api.views[0];
    expect(opened?.triggerId).toBe('5.5.run');
    expect(opened?.view).toMatchObject({ callback_id: VIEW_RUN_FORM, private_metadata: 'C0WORK' });
    const options = ((opened?.view.blocks ?? []) as Block[])[0]?.element.options ?? [];
    // Dave is a runner of prod-raspi and holds no grant on staging-web: its `uptime` is not offered.
    expect(options.map((o) => o.value)).toEqual([
      'prod-raspi disk',
      'prod-raspi logs',
      'prod-raspi restart-agent',
    ]);
    expect(options[1]?.description?.text).toBe('Recent log lines of a systemd unit · takes service, lines');
    expect(options[2]?.description?.text).toBe('Restart the SSM agent · needs approval');
  });

  it('someone who may run nothing gets the text help instead of an empty form', async () => {
    const reply = await h.command('U0ALICE', '', '/run');
    expect(reply).toMatch(/you need an active grant/);
    expect(h.slack.api.views).toEqual([]);
  });

  it('a snippet without parameters runs on submit, in the channel /run was typed in', async () => {
    const answer = await submit(VIEW_RUN_FORM, 'C0WORK', pick('prod-raspi disk'), 'V1');
    expect(answer.response_action).toBe('update');
    expect(JSON.stringify(answer.view)).toMatch(/Running `disk` on prod-raspi \(run `[a-z0-9]+`\)/);
    const message = h.slack.api.messagesIn('C0WORK').filter((m) => !m.threadTs && !m.visibleTo);
    expect(message).toHaveLength(1);
  });

  it('a snippet with parameters asks for them next: defaults filled in, patterns named', async () => {
    const answer = await submit(VIEW_RUN_FORM, 'C0WORK', pick('prod-raspi logs'), 'V2');
    expect(answer.response_action).toBe('update');
    expect(answer.view?.callback_id).toBe(VIEW_RUN_PARAMS);
    expect(JSON.parse(answer.view?.private_metadata ?? '{}')).toEqual({
      channel: 'C0WORK',
      target: 'prod-raspi',
      snippet: 'logs',
    });
    const blocks = answer.view?.blocks ?? [];
    expect(blocks.map((b) => [b.block_id, b.optional, b.element.initial_value])).toEqual([
      [`${BLOCK_RUN_PARAM_PREFIX}service`, false, undefined],
      [`${BLOCK_RUN_PARAM_PREFIX}lines`, true, '100'],
    ]);
    expect(blocks[0]?.hint?.text).toBe(
      'systemd unit name. Must match ^[a-z0-9@._][a-z0-9@._-]{0,63}$ in full.',
    );
    expect(h.slack.api.messagesIn('C0WORK')).toEqual([]);
  });

  it('a value that breaks its pattern is answered on its own field and runs nothing; a good one runs', async () => {
    const state = JSON.stringify({ channel: 'C0WORK', target: 'prod-raspi', snippet: 'logs' });
    const bad = await submit(VIEW_RUN_PARAMS, state, params({ service: 'ssh; reboot' }), 'V3');
    expect(bad.response_action).toBe('errors');
    expect(Object.keys(bad.errors ?? {})).toEqual([`${BLOCK_RUN_PARAM_PREFIX}service`]);
    expect(bad.errors?.[`${BLOCK_RUN_PARAM_PREFIX}service`]).toContain('does not match its pattern');
    expect(h.slack.api.messagesIn('C0WORK')).toEqual([]);

    const good = await submit(VIEW_RUN_PARAMS, state, params({ service: 'ssh' }), 'V4');
    expect(good.response_action).toBe('update');
    const id = /run `([a-z0-9]+)`/.exec(JSON.stringify(good.view))?.[1] ?? '';
    expect(await h.keyturn.deps.runs.get(id)).toMatchObject({
      snippet: 'logs',
      channel: 'C0WORK',
      params: { service: 'ssh', lines: '100' },
      command: "journalctl -u 'ssh' -n '100' --no-pager",
    });
  });
});
