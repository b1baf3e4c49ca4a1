import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { homeTab } from '../../../src/adapters/slack/home-blocks';
import type { Grant } from '../../../src/domain/grant';
import type { HomeView } from '../../../src/ports/chat';
import { prodRaspi } from '../../support/fakes';

function golden(name: string): unknown {
  return JSON.parse(readFileSync(join(__dirname, '__golden__', `${name}.json`), 'utf8'));
}

const wire = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

const active: Grant = {
  id: 'a1b2',
  requester: 'U0ALICE',
  principal: { kind: 'user', name: 'alice' },
  target: 'prod-raspi',
  durationMinutes: 60,
  reason: 'replace sensor',
  status: 'active',
  version: 3,
  requestedAt: '2026-11-23T09:58:00Z',
  approvals: [{ by: 'U0CAROL', at: '2026-11-23T10:00:00Z' }],
  startsAt: '2026-11-23T10:00:00Z',
  expiresAt: '2026-11-23T11:00:00Z',
  history: [],
};

const empty: HomeView = {
  user: 'U0ALICE',
  active: [],
  pending: [],
  waitingForMe: [],
  extensionsWaitingForMe: [],
  activeOnMyTargets: [],
  targets: { 'prod-raspi': prodRaspi },
  nodes: {},
};

describe('homeTab golden files', () => {
  it('someone with nothing open is pointed at the request form', () => {
    expect(wire(homeTab(empty))).toStrictEqual(golden('home-empty'));
  });

  it("an active grant shows its expiry as a Slack date, its nodes online first, and [I'm done] [Extend]", () => {
    const view: HomeView = {
      ...empty,
      active: [active],
      nodes: {
        'prod-raspi': [
          { id: 'mi-0a1b2c3d4e5f60002', name: 'raspi-line-2', ping: 'ConnectionLost' },
          { id: 'mi-0a1b2c3d4e5f60001', name: 'raspi-line-1', ping: 'Online' },
        ],
      },
    };
    expect(wire(homeTab(view))).toStrictEqual(golden('home-active'));
  });

  it('an approver sees a pending extension (who, how much more, the current expiry, the reason) with the extension card’s [Approve] [Deny]', () => {
    const extending: Grant = {
      ...active,
      extension: {
        minutes: 30,
        requestedBy: 'U0ALICE',
        requestedAt: '2026-11-23T10:45:00Z',
        approvals: [],
        state: 'pending',
      },
    };
    const view: HomeView = {
      ...empty,
      user: 'U0CAROL',
      extensionsWaitingForMe: [extending],
      activeOnMyTargets: [extending],
    };
    expect(wire(homeTab(view))).toStrictEqual(golden('home-approver-extension'));
  });
});

describe('homeTab', () => {
  it('caps each list and points at /access list for the rest, staying under Home’s 100 blocks', () => {
    const many = Array.from({ length: 40 }, (_, i) => ({ ...active, id: `g${i}` }));
    const pending = many.map((g) => ({ ...g, status: 'pending' as const }));
    const extending = many.map((g) => ({
      ...g,
      id: `x${g.id}`,
      extension: {
        minutes: 30,
        requestedBy: g.requester,
        requestedAt: g.requestedAt,
        approvals: [],
        state: 'pending' as const,
      },
    }));
    const tab = homeTab({
      ...empty,
      active: many,
      pending,
      waitingForMe: pending,
      extensionsWaitingForMe: extending,
      activeOnMyTargets: many,
    });
    expect(tab.blocks.length).toBeLessThanOrEqual(100);
    expect(JSON.stringify(tab.blocks)).toContain('and 30 more');
    // Requests and extensions waiting for the approver are one list, capped once.
    expect(JSON.stringify(tab.blocks)).toContain('and 70 more');
  });

  it('requests and extensions waiting for an approver are listed newest first, each with its own buttons', () => {
    const request = { ...active, id: 'r1', status: 'pending' as const, requestedAt: '2026-11-23T10:30:00Z' };
    const older = {
      ...active,
      id: 'x1',
      extension: {
        minutes: 30,
        requestedBy: 'U0ALICE',
        requestedAt: '2026-11-23T10:20:00Z',
        approvals: [],
        state: 'pending' as const,
      },
    };
    const newer = {
      ...older,
      id: 'x2',
      extension: { ...older.extension, requestedAt: '2026-11-23T10:40:00Z' },
    };
    const tab = homeTab({
      ...empty,
      user: 'U0CAROL',
      waitingForMe: [request],
      extensionsWaitingForMe: [newer, older],
    });
    const blocks = wire(tab.blocks) as { type: string; elements?: { action_id: string; value: string }[] }[];
    const clicks = blocks.flatMap((b) => (b.elements ?? []).map((e) => `${e.action_id} ${e.value}`));
    expect(clicks).toEqual([
      'keyturn.extension.approve x2',
      'keyturn.extension.deny x2',
      'keyturn.grant.approve r1',
      'keyturn.grant.deny r1',
      'keyturn.extension.approve x1',
      'keyturn.extension.deny x1',
    ]);
    expect(JSON.stringify(tab.blocks)).not.toContain('No request is waiting for you');
  });

  it('the requester’s own active grant says its extension waits for approval', () => {
    const extending = {
      ...active,
      extension: {
        minutes: 90,
        requestedBy: 'U0ALICE',
        requestedAt: '2026-11-23T10:40:00Z',
        approvals: [],
        state: 'pending' as const,
      },
    };
    const [, line] = homeTab({ ...empty, active: [extending] }).blocks;
    expect(JSON.stringify(line)).toContain(':stopwatch: 1h30m more asked, waiting for approval');
    expect(JSON.stringify(homeTab({ ...empty, active: [active] }).blocks)).not.toContain('more asked');
  });

  it('escapes a reason so it cannot ping a channel', () => {
    const pending = { ...active, status: 'pending' as const, reason: 'ping <!channel> & go' };
    const text = JSON.stringify(homeTab({ ...empty, pending: [pending] }).blocks);
    expect(text).toContain('ping &lt;!channel&gt; &amp; go');
  });
});
