import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KnownBlock } from '@slack/types';
import type { SlackMessage } from '../../src/adapters/slack/block-kit';
import { requestCard } from '../../src/adapters/slack/request-card-blocks';
import type { Ending, Extension, Grant } from '../../src/domain/grant';
import type { ManagedNode } from '../../src/domain/node';
import type { Target } from '../../src/domain/target';
import type { ExtensionCardView } from '../../src/ports/chat';
import { prodRaspi } from './fakes';

/**
 * Grants, targets and nodes the grant-message tests share (request card, extension card, DMs, audit
 * alerts), with the helpers that read their golden files and their text.
 */

/** prod-raspi wanting two approvals, and lapsing after 30 minutes. */
export const target: Target = { ...prodRaspi, approvals: 2, approvalTimeoutMinutes: 30 };

/** Deliberately not online-first, so the goldens show the builders' ordering. */
export const nodes: ManagedNode[] = [
  { id: 'mi-0a1b2c3d4e5f60002', name: 'raspi-line-2', ping: 'ConnectionLost' },
  { id: 'mi-0a1b2c3d4e5f60001', name: 'raspi-line-1', ping: 'Online' },
  { id: 'mi-0a1b2c3d4e5f60003', name: 'raspi-line-3', ping: 'Online' },
  { id: 'mi-0a1b2c3d4e5f60004', ping: 'Inactive' },
  { id: 'mi-0a1b2c3d4e5f60005', name: 'raspi-line-5', ping: 'Online' },
  { id: 'i-0123456789abcdef0', name: 'raspi-gateway', ping: 'Online' },
  { id: 'mi-0a1b2c3d4e5f60007', name: 'raspi-line-7', ping: 'Unknown' },
];

export const requested: Grant = {
  id: 'a1b2',
  requester: 'U0ALICE',
  principal: { kind: 'user', name: 'alice' },
  target: 'prod-raspi',
  durationMinutes: 60,
  reason: 'replace sensor on line 3',
  status: 'pending',
  version: 1,
  requestedAt: '2026-11-03T13:00:00Z',
  approvals: [],
  history: [{ at: '2026-11-03T13:00:00Z', from: null, to: 'pending', by: 'U0ALICE' }],
};

export const oneApproval: Grant = {
  ...requested,
  version: 2,
  approvals: [{ by: 'U0CAROL', at: '2026-11-03T13:02:00Z' }],
  history: [
    ...requested.history,
    { at: '2026-11-03T13:02:00Z', from: 'pending', to: 'pending', by: 'U0CAROL' },
  ],
};

export const approved: Grant = {
  ...oneApproval,
  status: 'approved',
  version: 3,
  approvals: [...oneApproval.approvals, { by: 'U0DAVE', at: '2026-11-03T13:05:00Z' }],
  decidedBy: 'U0DAVE',
  decidedAt: '2026-11-03T13:05:00Z',
  startsAt: '2026-11-03T13:05:00Z',
  expiresAt: '2026-11-03T14:05:00Z',
  history: [
    ...oneApproval.history,
    { at: '2026-11-03T13:05:00Z', from: 'pending', to: 'approved', by: 'U0DAVE' },
  ],
};

export const active: Grant = {
  ...approved,
  status: 'active',
  version: 4,
  policyArn: 'arn:aws:iam::123456789012:policy/keyturn/keyturn-a1b2',
  history: [
    ...approved.history,
    { at: '2026-11-03T13:05:20Z', from: 'approved', to: 'active', by: 'keyturn' },
  ],
};

export const denied: Grant = {
  ...requested,
  status: 'denied',
  version: 2,
  decidedBy: 'U0DAVE',
  decidedAt: '2026-11-03T13:03:00Z',
  denyReason: 'change freeze until Friday & audit',
  history: [
    ...requested.history,
    { at: '2026-11-03T13:03:00Z', from: 'pending', to: 'denied', by: 'U0DAVE' },
  ],
};

export const failed: Grant = {
  ...approved,
  status: 'failed',
  version: 4,
  failureReason: 'IAM said LimitExceeded: alice already has 10 policies attached',
  history: [
    ...approved.history,
    { at: '2026-11-03T13:05:40Z', from: 'approved', to: 'failed', by: 'keyturn' },
  ],
};

/** An active grant on its way out: the use case wrote `ending` first and the revoke steps have not finished. */
export function ending(e: Ending, extra: Partial<Grant> = {}): Grant {
  return { ...active, version: 5, ending: e, ...extra };
}

/** A grant that ended after being active: terminal status, the ending that explains it, sessions counted. */
export function ended(e: Ending, sessionsEnded: number | undefined, extra: Partial<Grant> = {}): Grant {
  const grant: Grant = {
    ...active,
    status: e.status,
    version: 6,
    ending: e,
    history: [
      ...active.history,
      { at: e.at, from: 'active', to: 'active', event: 'ending-requested', by: e.by },
      { at: '2026-11-03T14:05:30Z', from: 'active', to: e.status, by: 'keyturn' },
    ],
    ...extra,
  };
  if (sessionsEnded !== undefined) grant.sessionsEnded = sessionsEnded;
  return grant;
}

export const expiredEnding: Ending = { status: 'expired', by: 'keyturn', at: '2026-11-03T14:05:00Z' };
export const revokedEnding: Ending = {
  status: 'revoked',
  by: 'U0DAVE',
  at: '2026-11-03T13:30:00Z',
  reason: 'suspicious activity on line 3',
};
export const releasedEnding: Ending = { status: 'released', by: 'U0ALICE', at: '2026-11-03T13:40:00Z' };

export const extensionTarget: Target = { ...target, maxTotalMinutes: 180 };

export const pendingExtension: Extension = {
  minutes: 30,
  requestedBy: 'U0ALICE',
  requestedAt: '2026-11-03T13:50:00Z',
  approvals: [{ by: 'U0CAROL', at: '2026-11-03T13:52:00Z' }],
  state: 'pending',
};

export const extending: Grant = { ...active, version: 5, extension: pendingExtension };

export const extensionPending: ExtensionCardView = {
  grant: extending,
  target: extensionTarget,
  extension: pendingExtension,
  newExpiresAt: '2026-11-03T14:35:00Z',
  totalMinutes: 90,
};

export const approvedExtension: Extension = {
  ...pendingExtension,
  approvals: [...pendingExtension.approvals, { by: 'U0DAVE', at: '2026-11-03T13:53:00Z' }],
  state: 'approved',
  newExpiresAt: '2026-11-03T14:35:00Z',
  decidedBy: 'U0DAVE',
};

/** After the policy version was written: the grant already carries the new expiry. */
export const extensionDone: ExtensionCardView = {
  ...extensionPending,
  grant: { ...active, version: 7, expiresAt: '2026-11-03T14:35:00Z', extendedMinutes: 30 },
  extension: { ...approvedExtension, state: 'extended' },
  outcome: { kind: 'extended', by: 'U0DAVE' },
};

export function golden(name: string): unknown {
  return JSON.parse(readFileSync(join(__dirname, '../unit/adapters/__golden__', `${name}.json`), 'utf8'));
}

/** What Slack receives: the JSON the Web API client serializes. */
export function wire(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value));
}

export interface TextObject {
  type: string;
  text: string;
  verbatim?: boolean;
}

/** Every text object anywhere in the blocks, with where it sits (section text and fields have different limits). */
export function textObjects(blocks: readonly KnownBlock[]): { where: string; obj: TextObject }[] {
  const found: { where: string; obj: TextObject }[] = [];
  const visit = (value: unknown, where: string): void => {
    if (Array.isArray(value)) {
      for (const v of value) visit(v, where);
      return;
    }
    if (value === null || typeof value !== 'object') return;
    const obj = value as Record<string, unknown>;
    if ((obj.type === 'mrkdwn' || obj.type === 'plain_text') && typeof obj.text === 'string') {
      found.push({ where, obj: obj as unknown as TextObject });
      return;
    }
    for (const [k, v] of Object.entries(obj))
      visit(v, k === 'fields' ? 'field' : where === 'field' ? where : k);
  };
  for (const b of blocks) visit(b, b.type);
  return found;
}

export function allText(message: SlackMessage): string {
  return textObjects(message.blocks)
    .map((t) => t.obj.text)
    .join('\n');
}

export function card(grant: Grant, t: Target = target, n: readonly ManagedNode[] = nodes): SlackMessage {
  return requestCard({ grant, target: t, nodes: n });
}
