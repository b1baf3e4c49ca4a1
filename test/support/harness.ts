import type { PostedMessage } from '../../src/adapters/sandbox/fake-slack-api';
import { ACTION_APPROVE } from '../../src/adapters/slack/action-ids';
import type { Config } from '../../src/config/types';
import { type RunningKeyturn, type StartOptions, startKeyturn } from '../../src/main/server';
import { silentLogger, testConfig } from './fakes';
import { buttonClick, postSigned, type SendOptions, slashCommand, startFakeSlack } from './slack-requests';

export const SECRET = 'integration-signing-secret';

/**
 * Keyturn's real HTTP server in sandbox mode (simulated AWS, dynalite), with a fake Slack Web API on
 * its own port behind SLACK_API_URL, and helpers that speak to it as Slack would: signed requests.
 */
export async function startHarness(opts: { config?: Config; clock?: StartOptions['clock'] } = {}) {
  const slack = await startFakeSlack({ userGroups: { S0SREGROUP: ['U0DAVE'] } });
  const keyturn: RunningKeyturn = await startKeyturn({
    env: { SLACK_SIGNING_SECRET: SECRET, SLACK_API_URL: slack.url },
    port: 0,
    config: opts.config ?? testConfig(),
    logger: silentLogger,
    readiness: { maxWaitMs: 2_000, firstDelayMs: 10 },
    sweepEveryMs: 0,
    ...(opts.clock ? { clock: opts.clock } : {}),
  });
  const account = keyturn.account;
  if (!account) throw new Error('sandbox mode has a simulated account');

  const send = (body: string, sendOpts: Partial<SendOptions> = {}) =>
    postSigned(keyturn.url, body, { secret: SECRET, ...sendOpts });

  /** Types a slash command and returns the ephemeral reply's text, after the queued work is done. */
  const command = async (user: string, text: string, name = '/access'): Promise<string> => {
    const res = await send(slashCommand(user, text, name));
    if (res.status !== 200) throw new Error(`${name} ${text} answered ${res.status}`);
    await keyturn.queue.idle();
    return (JSON.parse(res.body) as { text: string }).text;
  };

  const click = async (
    user: string,
    value: string,
    card: { channel: string; ts: string },
    actionId = ACTION_APPROVE,
  ) => {
    const res = await send(buttonClick({ user, actionId, value, card }));
    await keyturn.queue.idle();
    return res;
  };

  /** alice asks for prod-raspi; returns the grant id and its approval card. */
  const request = async (text = 'prod-raspi 1h replace sensor on line 3', user = 'U0ALICE') => {
    const reply = await command(user, text);
    const grantId = /Request `([a-z0-9]+)`/.exec(reply)?.[1];
    if (!grantId) throw new Error(`no grant id in: ${reply}`);
    const card = slack.api.messagesIn('C0APPROVALS').at(-1) as PostedMessage;
    return { grantId, card, reply };
  };

  /** request, then carol approves: an active grant. */
  const activeGrant = async (text?: string) => {
    const { grantId, card } = await request(text);
    await click('U0CAROL', grantId, card);
    const grant = await keyturn.deps.grants.get(grantId);
    if (grant?.status !== 'active') throw new Error(`grant ${grantId} is ${grant?.status}`);
    return { grantId, card, grant };
  };

  const close = async () => {
    await keyturn.close();
    await slack.close();
  };

  return { keyturn, slack, account, send, command, click, request, activeGrant, close };
}

export type Harness = Awaited<ReturnType<typeof startHarness>>;

/** Text and blocks of a Slack message, flattened, for "does it mention …" assertions. */
export function textOf(m: PostedMessage | undefined): string {
  return m ? `${m.text} ${JSON.stringify(m.blocks)}` : '';
}
