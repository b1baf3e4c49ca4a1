import type { Config } from '../../src/config/types';
import { type Grant, type GrantStatus, isOpen, type MessageRef } from '../../src/domain/grant';
import type { Target } from '../../src/domain/target';
import type { AuditEvent, Chat, ExtensionCardView, Notice, RequestCardView } from '../../src/ports/chat';
import type { Clock } from '../../src/ports/clock';
import type { CreateGrantOutcome, GrantStore } from '../../src/ports/grant-store';
import type { Logger } from '../../src/ports/logger';
import type { Job, WorkQueue } from '../../src/ports/work-queue';

const clone = <T>(v: T): T => structuredClone(v);

/** Same contract as the DynamoDB store (conditional writes, one open grant per requester+target), in memory. */
export class MemoryGrantStore implements GrantStore {
  readonly items = new Map<string, Grant>();
  readonly effects = new Set<string>();

  async create(grant: Grant): Promise<CreateGrantOutcome> {
    await tick();
    const existing = [...this.items.values()].find(
      (g) => g.requester === grant.requester && g.target === grant.target && isOpen(g.status),
    );
    if (existing) return { ok: false, reason: 'open-grant-exists', existing: clone(existing) };
    if (this.items.has(grant.id)) return { ok: false, reason: 'id-taken' };
    this.items.set(grant.id, clone(grant));
    return { ok: true };
  }

  async get(id: string): Promise<Grant | undefined> {
    await tick();
    const g = this.items.get(id);
    return g && clone(g);
  }

  async save(next: Grant, expectedVersion: number): Promise<'saved' | 'stale'> {
    await tick();
    if (this.items.get(next.id)?.version !== expectedVersion) return 'stale';
    this.items.set(next.id, clone(next));
    return 'saved';
  }

  async listByStatus(status: GrantStatus, opts: { dueBy?: string } = {}): Promise<Grant[]> {
    await tick();
    return [...this.items.values()]
      .filter((g) => g.status === status)
      .filter((g) => opts.dueBy === undefined || dueTime(g) <= opts.dueBy)
      .sort((a, b) => dueTime(a).localeCompare(dueTime(b)))
      .map(clone);
  }

  async listByRequester(requester: string): Promise<Grant[]> {
    await tick();
    return [...this.items.values()]
      .filter((g) => g.requester === requester)
      .sort((a, b) => b.requestedAt.localeCompare(a.requestedAt))
      .map(clone);
  }

  async claimEffect(grantId: string, effect: string): Promise<boolean> {
    await tick();
    const key = `${grantId}/${effect}`;
    if (this.effects.has(key)) return false;
    this.effects.add(key);
    return true;
  }
}

/** The byStatus index's sort key, as the DynamoDB store computes it. */
const dueTime = (g: Grant): string => g.ending?.at ?? g.expiresAt ?? g.requestedAt;

/** Yields to the event loop so concurrent callers interleave as they would against a real store. */
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

export class RecordingChat implements Chat {
  readonly cards: { ref: MessageRef; channel: string; view: RequestCardView }[] = [];
  readonly cardUpdates: { ref: MessageRef; view: RequestCardView }[] = [];
  readonly notices: { user: string; notice: Notice }[] = [];
  readonly extensionCards: { ref: MessageRef; channel: string; view: ExtensionCardView }[] = [];
  readonly extensionCardUpdates: { ref: MessageRef; view: ExtensionCardView }[] = [];
  readonly audits: { channel: string; event: AuditEvent }[] = [];
  groupLookups = 0;
  private seq = 0;

  constructor(private readonly groups: Record<string, string[]> = {}) {}

  async postRequestCard(channel: string, view: RequestCardView): Promise<MessageRef> {
    const ref = { channel, ts: `1700000000.${String(++this.seq).padStart(6, '0')}` };
    this.cards.push({ ref, channel, view: clone(view) });
    return ref;
  }
  async updateRequestCard(ref: MessageRef, view: RequestCardView): Promise<void> {
    this.cardUpdates.push({ ref, view: clone(view) });
  }
  async postExtensionCard(channel: string, view: ExtensionCardView): Promise<MessageRef> {
    const ref = { channel, ts: `1700000000.${String(++this.seq).padStart(6, '0')}` };
    this.extensionCards.push({ ref, channel, view: clone(view) });
    return ref;
  }
  async updateExtensionCard(ref: MessageRef, view: ExtensionCardView): Promise<void> {
    this.extensionCardUpdates.push({ ref, view: clone(view) });
  }
  async postAudit(channel: string, event: AuditEvent): Promise<void> {
    this.audits.push({ channel, event: clone(event) });
  }
  async notify(user: string, notice: Notice): Promise<void> {
    this.notices.push({ user, notice: clone(notice) });
  }
  async userGroupMembers(groupId: string): Promise<readonly string[]> {
    this.groupLookups++;
    return this.groups[groupId] ?? [];
  }
}

export class RecordingQueue implements WorkQueue {
  readonly jobs: Job[] = [];
  async enqueue(job: Job): Promise<void> {
    this.jobs.push(job);
  }
}

/** A clock tests move by hand; `sleep` advances it instantly so backoff loops finish at once. */
export class ManualClock implements Clock {
  slept: number[] = [];
  constructor(private current: Date) {}
  now(): Date {
    return new Date(this.current);
  }
  set(iso: string): void {
    this.current = new Date(iso);
  }
  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
  async sleep(ms: number): Promise<void> {
    this.slept.push(ms);
    this.advance(ms);
  }
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

export const prodRaspi: Target = {
  name: 'prod-raspi',
  description: 'Production Raspberry Pi fleet',
  tags: { Fleet: 'prod-raspi' },
  defaultDurationMinutes: 60,
  maxDurationMinutes: 240,
  approvers: ['U0CAROL', 'S0SREGROUP'],
  approvals: 1,
  selfApproval: false,
  documents: ['shell', 'ssh'],
  warnBeforeMinutes: 10,
  approvalTimeoutMinutes: 60,
};

export function testConfig(overrides: { targets?: Record<string, Target> } = {}): Config {
  return {
    aws: { accountId: '123456789012', region: 'ap-northeast-1' },
    slack: { requestsChannel: 'C0APPROVALS', auditChannel: 'C0AUDIT' },
    people: {
      U0ALICE: { kind: 'user', name: 'alice' },
      U0BOB: { kind: 'user', name: 'bob' },
      U0CAROL: { kind: 'user', name: 'carol' },
      U0DAVE: { kind: 'role', name: 'oncall-dave' },
    },
    targets: overrides.targets ?? { 'prod-raspi': prodRaspi },
    snippets: {},
    digest: { at: '09:00', timezone: 'UTC' },
    sandbox: {
      fleet: [
        { id: 'mi-0a1b2c3d4e5f60001', name: 'raspi-line-1', tags: { Fleet: 'prod-raspi' }, ping: 'Online' },
        {
          id: 'mi-0a1b2c3d4e5f60002',
          name: 'raspi-line-2',
          tags: { Fleet: 'prod-raspi' },
          ping: 'ConnectionLost',
        },
        { id: 'i-0123456789abcdef0', name: 'web-1', tags: { Fleet: 'staging-web' }, ping: 'Online' },
      ],
      userGroups: { S0SREGROUP: ['U0DAVE'] },
    },
  };
}
