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
});

describe('homeTab', () => {
  it('caps each list and points at /access list for the rest, staying under Home’s 100 blocks', () => {
    const many = Array.from({ length: 40 }, (_, i) => ({ ...active, id: `g${i}` }));
    const pending = many.map((g) => ({ ...g, status: 'pending' as const }));
    const tab = homeTab({ ...empty, active: many, pending, waitingForMe: pending, activeOnMyTargets: many });
    expect(tab.blocks.length).toBeLessThanOrEqual(100);
    expect(JSON.stringify(tab.blocks)).toContain('and 30 more');
  });

  it('escapes a reason so it cannot ping a channel', () => {
    const pending = { ...active, status: 'pending' as const, reason: 'ping <!channel> & go' };
    const text = JSON.stringify(homeTab({ ...empty, pending: [pending] }).blocks);
    expect(text).toContain('ping &lt;!channel&gt; &amp; go');
  });
});
