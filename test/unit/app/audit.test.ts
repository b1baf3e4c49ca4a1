import { decideOnRun } from '../../../src/app/decide-run';
import { decideOnGrant } from '../../../src/app/decide';
import { cancelRequest, releaseGrant, revokeByApprover } from '../../../src/app/end-grant';
import { decideOnExtension, requestExtension } from '../../../src/app/extend-grant';
import { handleJob } from '../../../src/app/handle-job';
import { requestAccess } from '../../../src/app/request-access';
import { startRun } from '../../../src/app/start-run';
import { sweep } from '../../../src/app/sweep';
import { trackRun } from '../../../src/app/track-run';
import type { Config } from '../../../src/config/types';
import type { AuditLine } from '../../../src/domain/audit-line';
import type { Job } from '../../../src/ports/work-queue';
import {
  activate,
  approve,
  at,
  drain,
  notices,
  type Scenario,
  scenario,
} from '../../support/grant-scenarios';
import { run, runScenario } from '../../support/run-scenarios';

function lines(s: { chat: { auditLines: { channel: string; line: AuditLine }[] } }): string[] {
  return s.chat.auditLines.map(({ line }) =>
    line.subject === 'grant' ? `${line.kind} by ${line.by}` : `run ${line.kind}`,
  );
}

function withAuditEvents(s: { deps: { config: Config } }, auditEvents: 'all' | 'anomalies'): void {
  s.deps.config = { ...s.deps.config, slack: { ...s.deps.config.slack, auditEvents } };
}

describe('audit trail: one line per grant move, in the audit channel', () => {
  it('request → approve → active → released: four lines, each linking to the request card', async () => {
    const s = scenario();
    const grant = await activate(s);
    await releaseGrant(s.deps, { user: 'U0ALICE' });
    await drain(s);

    expect(lines(s)).toEqual([
      'requested by U0ALICE',
      'approved by U0CAROL',
      'active by keyturn',
      'released by U0ALICE',
    ]);
    const card = s.chat.cards[0]?.ref;
    expect(card).toBeDefined();
    expect(s.chat.auditLines.every((a) => a.channel === 'C0AUDIT')).toBe(true);
    expect(s.chat.auditLines.map((a) => a.line.thread)).toEqual([card, card, card, card]);
    expect(s.chat.auditLines[0]?.line).toMatchObject({
      kind: 'requested',
      grantId: grant.id,
      target: 'prod-raspi',
      requester: 'U0ALICE',
      minutes: 60,
      note: 'replace sensor',
    });
    expect(s.chat.auditLines[2]?.line).toMatchObject({ kind: 'active', until: '2026-11-23T11:00:00Z' });
  });

  it('denied, cancelled and revoked lines say who and why', async () => {
    const s = scenario();
    const denied = await requestAccess(s.deps, { user: 'U0ALICE', text: 'prod-raspi 1h look' });
    if (denied.outcome !== 'requested') throw new Error('not requested');
    await drain(s);
    await decideOnGrant(s.deps, {
      grantId: denied.grant.id,
      clicker: 'U0CAROL',
      action: 'deny',
      denyReason: 'use staging',
    });
    const cancelled = await requestAccess(s.deps, { user: 'U0ALICE', text: 'prod-raspi 1h again' });
    if (cancelled.outcome !== 'requested') throw new Error('not requested');
    await drain(s);
    await cancelRequest(s.deps, { user: 'U0ALICE', grantId: cancelled.grant.id });
    const active = await activate(s, { user: 'U0BOB' });
    await revokeByApprover(s.deps, { user: 'U0CAROL', grantId: active.id, reason: 'incident over' });
    await drain(s);

    const byKind = Object.fromEntries(
      s.chat.auditLines.map(({ line }) => [line.kind, line] as const).filter(([k]) => k !== 'requested'),
    );
    expect(byKind.denied).toMatchObject({ by: 'U0CAROL', note: 'use staging', grantId: denied.grant.id });
    expect(byKind.cancelled).toMatchObject({ by: 'U0ALICE', grantId: cancelled.grant.id });
    expect(byKind.revoked).toMatchObject({ by: 'U0CAROL', note: 'incident over', requester: 'U0BOB' });
  });

  it('expiry and a lapsed request are recorded as the bot’s own moves', async () => {
    const s = scenario();
    await activate(s);
    const waiting = await requestAccess(s.deps, { user: 'U0BOB', text: 'prod-raspi 1h waiting' });
    if (waiting.outcome !== 'requested') throw new Error('not requested');
    await drain(s);
    at(s, '2026-11-23T11:00:30Z');
    await sweep(s.deps);
    await drain(s);

    const tail = lines(s).slice(4);
    expect(tail.sort()).toEqual(['expired by keyturn', 'lapsed by keyturn']);
  });

  it('an extension: approved by whom and by how much, then extended until the new expiry', async () => {
    const s = scenario();
    const grant = await activate(s);
    await requestExtension(s.deps, { user: 'U0ALICE', grantId: grant.id, durationText: '1h' });
    await drain(s);
    await decideOnExtension(s.deps, { grantId: grant.id, clicker: 'U0CAROL', action: 'approve' });
    await drain(s);

    expect(lines(s).slice(3)).toEqual(['extension-approved by U0CAROL', 'extended by keyturn']);
    expect(s.chat.auditLines[3]?.line).toMatchObject({ minutes: 60, until: '2026-11-23T12:00:00Z' });
    expect(s.chat.auditLines[4]?.line).toMatchObject({ until: '2026-11-23T12:00:00Z' });
  });

  it('a redelivered grant-changed job posts its line once', async () => {
    const s = scenario();
    await approve(s);
    const jobs: Job[] = [...s.queue.jobs];
    await drain(s);
    const changed = jobs.find((j) => j.kind === 'grant-changed');
    if (!changed) throw new Error('no grant-changed job');
    await handleJob(s.deps, changed);
    await handleJob(s.deps, changed);

    expect(lines(s)).toEqual(['requested by U0ALICE', 'approved by U0CAROL', 'active by keyturn']);
  });

  it('a failing audit post neither fails the job nor stops the DM, and is not retried', async () => {
    const s = scenario();
    let attempts = 0;
    s.chat.postAuditLine = async () => {
      attempts++;
      throw new Error('Slack chat.postMessage failed: channel_not_found');
    };
    const grant = await activate(s);

    expect(grant.status).toBe('active');
    expect(notices(s, 'ready', grant.id)).toHaveLength(1);
    const before = attempts;
    await handleJob(s.deps, { kind: 'grant-changed', grantId: grant.id, step: grant.history.length - 1 });
    expect(attempts).toBe(before);
    expect(before).toBe(3);
  });

  it('auditEvents: anomalies posts no trail lines', async () => {
    const s: Scenario = scenario();
    withAuditEvents(s, 'anomalies');
    await activate(s);
    await releaseGrant(s.deps, { user: 'U0ALICE' });
    await drain(s);
    expect(s.chat.auditLines).toEqual([]);
  });
});

describe('audit trail: runs sent and how they ended', () => {
  it('a run gets a "sent" line and a "finished" line with its counts, linking to the run message', async () => {
    const s = runScenario();
    await run(s, 'prod-raspi disk');
    s.queue.jobs.splice(0);
    expect(await startRun(s.deps, 'r1')).toBe('sent');
    expect(await trackRun(s.deps, 'r1')).toBe('finished');
    await startRun(s.deps, 'r1');

    expect(lines(s)).toEqual(['run sent', 'run finished']);
    const message = s.runChat.messages[0]?.ref;
    expect(s.chat.auditLines.map((a) => a.line.thread)).toEqual([message, message]);
    expect(s.chat.auditLines[0]?.line).toMatchObject({ kind: 'sent', nodes: 3, requester: 'U0DAVE' });
    expect(s.chat.auditLines[1]?.line).toMatchObject({
      kind: 'finished',
      end: 'completed',
      counts: { succeeded: 2, undeliverable: 1 },
    });
  });

  it('a denied run gets one "denied" line naming the approver', async () => {
    const s = runScenario();
    await run(s, 'prod-raspi restart-agent');
    s.queue.jobs.splice(0);
    await startRun(s.deps, 'r1');
    await decideOnRun(s.deps, { runId: 'r1', clicker: 'U0CAROL', action: 'deny' });
    await startRun(s.deps, 'r1');
    await startRun(s.deps, 'r1');

    expect(s.chat.auditLines.map((a) => a.line)).toEqual([
      expect.objectContaining({ subject: 'run', kind: 'denied', by: 'U0CAROL', snippet: 'restart-agent' }),
    ]);
  });
});
