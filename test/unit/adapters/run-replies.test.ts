import { runDecisionRefusal, runReply } from '../../../src/adapters/slack/run-replies';
import { requestRun } from '../../../src/app/run-snippet';
import { activeGrant, run, runScenario } from '../../support/run-scenarios';

async function reply(text: string, user = 'U0DAVE') {
  const s = runScenario();
  await activeGrant(s, 'U0ALICE');
  return runReply(await requestRun(s.deps, { user, channel: 'C0WORK', text })).text;
}

describe('runReply: refusals say what was wrong, which parameter and which pattern', () => {
  it.each([
    [
      'prod-raspi logs service=ssh;reboot',
      'The value of `service`, “ssh;reboot”, does not match its pattern `^[a-z0-9@._][a-z0-9@._-]{0,63}$`',
    ],
    ['prod-raspi logs service=$(reboot)', 'The value of `service`, “$(reboot)”, does not match its pattern'],
    ['prod-raspi logs service=`reboot`', 'The value of `service`, “ˋrebootˋ”, does not match'],
    ['prod-raspi logs service=ssh&amp;&amp;reboot', '“ssh&amp;&amp;reboot”, does not match its pattern'],
    ['prod-raspi logs service=ssh\nreboot', 'contains U+000A (a newline), which no parameter accepts'],
    ['prod-raspi logs service=ss\u200bh', 'contains U+200B (a zero-width space)'],
    [
      `prod-raspi logs service=${'a'.repeat(300)}`,
      'The value of `service` is 300 characters; no value may be longer than 256',
    ],
    ['prod-raspi logs', '`logs` needs `service`: a value matching `^[a-z0-9@._][a-z0-9@._-]{0,63}$`'],
    [
      'prod-raspi logs ssh',
      'Parameters go as `name=value`; “ssh” is not one. Usage: `/run prod-raspi logs service=… lines=…`',
    ],
    ['prod-raspi logs unit=ssh', '`logs` has no parameter `unit`; it takes `service`, `lines`'],
    ['prod-raspi dsk', 'prod-raspi has no snippet called `dsk`. Did you mean `disk`?'],
    ['prod-raspy disk', 'There is no target called `prod-raspy`. Did you mean `prod-raspi`?'],
    ['staging-web disk', '`disk` cannot run on staging-web; it runs on prod-raspi.'],
  ])('%j', async (text, expected) => {
    const answer = await reply(text);
    expect(answer).toContain(expected);
    expect(answer).toMatch(/Nothing was run\.$/);
  });

  it('tells an unauthorized user how to get access', async () => {
    expect(await reply('prod-raspi disk', 'U0BOB')).toContain(
      'To run snippets on prod-raspi you need an active grant on it, or to be listed under its `runners`',
    );
  });

  it('tells an unmapped user they are not mapped', async () => {
    expect(await reply('prod-raspi disk', 'U0EVE')).toContain(
      'You (<@U0EVE>) are not mapped to an AWS identity',
    );
  });
});

describe('runReply: accepted and help', () => {
  it('says where the results will appear', async () => {
    expect(await reply('prod-raspi disk')).toBe(
      "Running `disk` on prod-raspi (run `r1`): the results per node will appear in a thread under Keyturn's message in this channel.",
    );
  });

  it('says where an approval request went', async () => {
    expect(await reply('prod-raspi restart-agent')).toContain(
      'needs approval: sent to the approvers of prod-raspi in <#C0APPROVALS>',
    );
  });

  it('lists snippets with parameters, patterns and defaults, and whether the user may run them', async () => {
    const help = await reply('prod-raspi', 'U0ALICE');
    expect(help).toContain(
      '*prod-raspi* (Production Raspberry Pi fleet) — you may run these (active grant `g-U0ALICE-prod-raspi` until <!date^',
    );
    expect(help).toContain(
      '• `logs` — Recent log lines of a systemd unit: `service=` (systemd unit name; pattern `^[a-z0-9@._][a-z0-9@._-]{0,63}$`), `lines=` (pattern `^[0-9]{1,4}$`; default `100`)',
    );
    expect(help).toContain('• `restart-agent` — Restart the SSM agent _(needs approval)_');
    expect(await reply('help', 'U0BOB')).toContain(
      'you need an active grant (`/access prod-raspi <duration> <reason>`) or to be listed as a runner',
    );
  });
});

describe('runDecisionRefusal', () => {
  it('names the approvers to a non-approver', async () => {
    const s = runScenario();
    const stored = await run(s, 'prod-raspi restart-agent');
    expect(
      runDecisionRefusal(
        { outcome: 'refused', reason: 'not-approver', run: stored },
        'r1',
        s.config.targets['prod-raspi'],
      ).text,
    ).toBe(
      'Only the approvers of prod-raspi can decide on this run (<@U0CAROL>, <!subteam^S0SREGROUP>). Nothing changed.',
    );
  });
});
