import { decideOnRun } from '../../../src/app/decide-run';
import { prodRaspi } from '../../support/fakes';
import { activeGrant, drain, run, runScenario } from '../../support/run-scenarios';

/** U0ALICE (holding a grant) asks for restart-agent, which needs approval; the card is posted. */
async function awaiting(opts: { approvals?: number; selfApproval?: boolean; requester?: string } = {}) {
  const s = runScenario();
  const target = {
    ...prodRaspi,
    runners: ['U0DAVE'],
    approvals: opts.approvals ?? 1,
    selfApproval: opts.selfApproval ?? false,
  };
  s.deps.config = { ...s.config, targets: { ...s.config.targets, 'prod-raspi': target } };
  const requester = opts.requester ?? 'U0ALICE';
  await activeGrant(s, requester);
  await run(s, 'prod-raspi restart-agent', requester);
  await drain(s);
  return s;
}

const decide = (
  s: Awaited<ReturnType<typeof awaiting>>,
  clicker: string,
  action: 'approve' | 'deny' = 'approve',
) => decideOnRun(s.deps, { runId: 'r1', clicker, action });

describe('decideOnRun: the same approver rules as grants', () => {
  it.each([
    ['a listed approver', 'U0CAROL', 'approved'],
    ['a member of a listed user group', 'U0DAVE', 'approved'],
  ])('%s may approve', async (_name, clicker, outcome) => {
    const s = await awaiting();
    expect(await decide(s, clicker)).toMatchObject({
      outcome,
      run: { status: 'queued', decidedBy: clicker },
    });
    expect(s.queue.jobs).toEqual([{ kind: 'start-run', runId: 'r1' }]);
  });

  it('refuses someone who is not an approver, and changes nothing', async () => {
    const s = await awaiting();
    const before = await s.runs.get('r1');
    expect(await decide(s, 'U0BOB')).toMatchObject({ outcome: 'refused', reason: 'not-approver' });
    expect(await s.runs.get('r1')).toEqual(before);
    expect(s.queue.jobs).toEqual([]);
  });

  it('refuses the requester approving their own run unless the target allows self-approval', async () => {
    const s = await awaiting({ requester: 'U0CAROL' });
    expect(await decide(s, 'U0CAROL')).toMatchObject({ outcome: 'refused', reason: 'self-approval' });
    const allowed = await awaiting({ requester: 'U0CAROL', selfApproval: true });
    expect(await decide(allowed, 'U0CAROL')).toMatchObject({ outcome: 'approved' });
  });

  it('needs `approvals` distinct approvers', async () => {
    const s = await awaiting({ approvals: 2 });
    expect(await decide(s, 'U0CAROL')).toMatchObject({
      outcome: 'approval-recorded',
      run: { status: 'awaiting-approval' },
    });
    expect(await decide(s, 'U0CAROL')).toMatchObject({
      outcome: 'refused',
      reason: 'already-approved-by-you',
    });
    expect(await decide(s, 'U0DAVE')).toMatchObject({ outcome: 'approved', run: { status: 'queued' } });
    expect((await s.runs.get('r1'))?.approvals.map((a) => a.by)).toEqual(['U0CAROL', 'U0DAVE']);
  });

  it('a decided run cannot be decided again', async () => {
    const s = await awaiting();
    await decide(s, 'U0CAROL', 'deny');
    expect(await decide(s, 'U0CAROL')).toMatchObject({ outcome: 'refused', reason: 'not-pending' });
    expect(await decideOnRun(s.deps, { runId: 'nope', clicker: 'U0CAROL', action: 'approve' })).toEqual({
      outcome: 'refused',
      reason: 'unknown-run',
    });
  });

  it('twenty concurrent approve clicks approve once, and the run is sent once', async () => {
    const s = await awaiting();
    const results = await Promise.all(Array.from({ length: 20 }, () => decide(s, 'U0CAROL')));
    expect(results.filter((r) => r.outcome === 'approved')).toHaveLength(1);
    expect(results.filter((r) => r.outcome === 'refused')).toHaveLength(19);
    expect(s.queue.jobs).toEqual([{ kind: 'start-run', runId: 'r1' }]);
    await drain(s);
    expect(s.commands.sent).toHaveLength(1);
  });

  it('an approve and a deny at once: exactly one wins', async () => {
    const s = await awaiting();
    const [a, b] = await Promise.all([decide(s, 'U0CAROL', 'approve'), decide(s, 'U0DAVE', 'deny')]);
    expect([a.outcome, b.outcome].filter((o) => o !== 'refused')).toHaveLength(1);
    await drain(s);
    const status = (await s.runs.get('r1'))?.status;
    expect(s.commands.sent).toHaveLength(status === 'denied' ? 0 : 1);
  });
});
