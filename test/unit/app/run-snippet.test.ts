import { requestRun } from '../../../src/app/run-snippet';
import { activeGrant, drain, PI1, run, runScenario, SERVICE_PATTERN } from '../../support/run-scenarios';

const input = (user: string, text: string, requestKey?: string) => ({
  user,
  channel: 'C0WORK',
  text,
  ...(requestKey ? { requestKey } : {}),
});

describe('requestRun: who may run', () => {
  // U0DAVE is a runner of prod-raspi; U0ALICE and U0BOB are mapped but not runners; U0EVE is not mapped.
  it.each([
    ['a mapped user with an active grant on the target', 'U0ALICE', true, 'started'],
    ['a listed runner without any grant', 'U0DAVE', false, 'started'],
    ['a mapped user with neither', 'U0BOB', false, 'not-authorized'],
    ['an unmapped user', 'U0EVE', false, 'unmapped-user'],
    ['an unmapped user, even holding a grant record', 'U0EVE', true, 'unmapped-user'],
  ])('%s → %s', async (_name, user, withGrant, expected) => {
    const s = runScenario();
    if (withGrant) await activeGrant(s, user);
    const result = await requestRun(s.deps, input(user, 'prod-raspi disk'));
    if (expected === 'started') {
      expect(result).toMatchObject({ outcome: 'started', duplicate: false });
      expect(s.runs.items.size).toBe(1);
      expect(s.queue.jobs).toEqual([{ kind: 'start-run', runId: 'r1' }]);
    } else {
      expect(result).toMatchObject({ outcome: 'refused', refusal: { reason: expected, user } });
      expect(s.runs.items.size).toBe(0);
      expect(s.queue.jobs).toEqual([]);
    }
  });

  it.each([
    ['a grant on another target', { target: 'staging-web' }],
    ['a grant that has expired', { expiresAt: '2026-11-23T09:59:59Z' }],
    ['a grant being ended', { ending: { status: 'revoked', by: 'U0CAROL', at: '2026-11-23T09:50:00Z' } }],
    ['a pending request', { status: 'pending' }],
    ['a released grant', { status: 'released' }],
    ['a grant whose window has not started', { startsAt: '2026-11-23T10:00:01Z' }],
  ] as const)('refuses a user whose only grant is %s', async (_name, overrides) => {
    const s = runScenario();
    await activeGrant(s, 'U0ALICE', 'prod-raspi', overrides);
    const result = await requestRun(s.deps, input('U0ALICE', 'prod-raspi disk'));
    expect(result).toMatchObject({ outcome: 'refused', refusal: { reason: 'not-authorized' } });
    expect(s.runs.items.size).toBe(0);
  });

  it('a runner of one target is no runner of another: runners are per target', async () => {
    const s = runScenario();
    const result = await requestRun(s.deps, input('U0DAVE', 'staging-web uptime'));
    expect(result).toMatchObject({ outcome: 'refused', refusal: { reason: 'not-authorized' } });
  });
});

describe('requestRun: what is stored', () => {
  it('stores the run with the exact command, the snippet limits and a comment naming run and requester', async () => {
    const s = runScenario();
    const stored = await run(s, 'prod-raspi logs service=ssh lines=20', 'U0DAVE', 'trigger-1');
    expect(stored).toEqual({
      id: 'r1',
      requestKey: 'trigger-1',
      snippet: 'logs',
      target: 'prod-raspi',
      account: '123456789012',
      region: 'ap-northeast-1',
      params: { service: 'ssh', lines: '20' },
      command: "journalctl -u 'ssh' -n '20' --no-pager",
      requester: 'U0DAVE',
      channel: 'C0WORK',
      status: 'queued',
      version: 1,
      requestedAt: '2026-11-23T10:00:00Z',
      needsApproval: false,
      approvals: [],
      comment: 'Keyturn run r1 by U0DAVE: logs on prod-raspi',
      deliveryTimeoutSeconds: 300,
      executionTimeoutSeconds: 120,
      maxConcurrency: '10',
      maxErrors: '1',
      simulated: true,
    });
    expect(await s.runs.get('r1')).toEqual(stored);
  });

  it('stores an approval snippet as awaiting approval and names the approvals channel', async () => {
    const s = runScenario();
    const result = await requestRun(s.deps, input('U0DAVE', 'prod-raspi restart-agent'));
    expect(result).toMatchObject({
      outcome: 'started',
      approvalChannel: 'C0APPROVALS',
      run: { status: 'awaiting-approval', needsApproval: true },
    });
  });

  it('a retried Slack request (same trigger_id) finds the run it made instead of making another', async () => {
    const s = runScenario();
    const first = await requestRun(s.deps, input('U0DAVE', 'prod-raspi disk', 'trigger-1'));
    const retry = await requestRun(s.deps, input('U0DAVE', 'prod-raspi disk', 'trigger-1'));
    expect(first).toMatchObject({ outcome: 'started', duplicate: false, run: { id: 'r1' } });
    expect(retry).toMatchObject({ outcome: 'started', duplicate: true, run: { id: 'r1' } });
    expect(s.runs.items.size).toBe(1);
    await drain(s);
    expect(s.commands.sent).toHaveLength(1);
  });

  it('two separate requests are two runs', async () => {
    const s = runScenario();
    await run(s, 'prod-raspi disk', 'U0DAVE', 'trigger-1');
    await run(s, 'prod-raspi disk', 'U0DAVE', 'trigger-2');
    expect([...s.runs.items.keys()]).toEqual(['r1', 'r2']);
  });

  it('records that the run is simulated when the command runner is', async () => {
    const s = runScenario();
    expect((await run(s, 'prod-raspi disk')).simulated).toBe(true);
    const real = { ...s.deps, aws: { ...s.deps.aws, simulated: false } };
    const result = await requestRun(real, input('U0DAVE', 'prod-raspi disk'));
    expect(result).toMatchObject({ outcome: 'started', run: { simulated: false } });
  });
});

describe('requestRun: refusals store nothing and say what was wrong', () => {
  it.each([
    [
      'unknown target',
      'prod-raspy disk',
      { reason: 'unknown-target', given: 'prod-raspy', suggestion: 'prod-raspi' },
    ],
    ['unknown snippet', 'prod-raspi dsk', { reason: 'unknown-snippet', given: 'dsk', suggestion: 'disk' }],
    ['snippet not allowed on the target', 'staging-web disk', { reason: 'snippet-not-on-target' }],
    [
      'a value not matching its pattern',
      'prod-raspi logs service=ssh;reboot',
      {
        reason: 'bad-params',
        problem: { reason: 'no-match', name: 'service', pattern: SERVICE_PATTERN, value: 'ssh;reboot' },
      },
    ],
    [
      'a missing parameter',
      'prod-raspi logs',
      { reason: 'bad-params', problem: { reason: 'missing-param', name: 'service' } },
    ],
    [
      'an unknown parameter',
      'prod-raspi disk path=/',
      { reason: 'bad-params', problem: { reason: 'unknown-param', name: 'path', known: [] } },
    ],
  ])('%s', async (_name, text, refusal) => {
    const s = runScenario();
    const result = await requestRun(s.deps, input('U0DAVE', text));
    expect(result).toMatchObject({ outcome: 'refused', refusal });
    expect(s.runs.items.size).toBe(0);
    expect(s.queue.jobs).toEqual([]);
  });

  it('checks parameters before authorization, so an injection attempt is named even for an unauthorized user', async () => {
    const s = runScenario();
    const result = await requestRun(s.deps, input('U0BOB', 'prod-raspi logs service=$(reboot)'));
    expect(result).toMatchObject({ outcome: 'refused', refusal: { reason: 'bad-params' } });
  });
});

describe('requestRun: help', () => {
  it('lists every target with snippets, and whether the user may run there', async () => {
    const s = runScenario();
    await activeGrant(s, 'U0ALICE', 'prod-raspi');
    const result = await requestRun(s.deps, input('U0ALICE', 'help'));
    if (result.outcome !== 'help') throw new Error(result.outcome);
    expect(result.mapped).toBe(true);
    expect(
      result.entries.map((e) => [e.target.name, e.snippets.map((x) => x.name), e.permission.allowed]),
    ).toEqual([
      ['prod-raspi', ['disk', 'logs', 'restart-agent'], true],
      ['staging-web', ['uptime'], false],
    ]);
    expect(result.entries[0]?.permission).toEqual({
      allowed: true,
      via: 'grant',
      grantId: 'g-U0ALICE-prod-raspi',
      expiresAt: '2026-11-23T10:31:00Z',
    });
  });

  it('`/run <target>` lists that target only; a runner is told so', async () => {
    const s = runScenario();
    const result = await requestRun(s.deps, input('U0DAVE', 'prod-raspi'));
    if (result.outcome !== 'help') throw new Error(result.outcome);
    expect(result.entries.map((e) => [e.target.name, e.permission])).toEqual([
      ['prod-raspi', { allowed: true, via: 'runner' }],
    ]);
  });

  it('answers an unmapped user with help, marked as unmapped', async () => {
    const s = runScenario();
    const result = await requestRun(s.deps, input('U0EVE', ''));
    expect(result).toMatchObject({ outcome: 'help', mapped: false });
  });

  it('refuses help for an unknown target', async () => {
    const s = runScenario();
    expect(await requestRun(s.deps, input('U0DAVE', 'nowhere'))).toMatchObject({
      outcome: 'refused',
      refusal: { reason: 'unknown-target' },
    });
  });
});

describe('requestRun: never calls AWS on the ack path', () => {
  it('neither looks nodes up nor sends anything before the worker runs', async () => {
    const s = runScenario();
    await run(s, 'prod-raspi disk');
    expect(s.commands.sent).toEqual([]);
    await drain(s);
    expect(s.commands.sent.map((c) => c.targetTags)).toEqual([{ Fleet: 'prod-raspi' }]);
    expect(s.runChat.postedResults().map((r) => r.nodeId)).toContain(PI1);
  });
});
