import type { Principal } from '../../domain/principal';
import type { Clock } from '../../ports/clock';
import type { SessionInfo } from '../../ports/fleet';

/** The Session Manager part of the account's saved state (simulated-account.ts). */
export interface SimulatedSessionsState {
  openSessions: SessionInfo[];
  endedSessions: SessionInfo[];
}

/**
 * Session Manager's sessions: open ones, ended ones with `endedAt` (DescribeSessions State=History),
 * and sessions whose agent does not end them when told to. Sessions go out as copies.
 */
export class SimulatedSessions {
  private readonly open = new Map<string, SessionInfo>();
  private readonly ended: SessionInfo[] = [];
  private readonly refusingTermination = new Set<string>();

  constructor(private readonly clock: Clock) {}

  add(session: SessionInfo): void {
    this.open.set(session.id, session);
  }

  /** Ends the session; false when no such session is open. */
  end(sessionId: string): boolean {
    const session = this.open.get(sessionId);
    if (!session) return false;
    this.open.delete(sessionId);
    this.refusingTermination.delete(sessionId);
    this.ended.push({ ...session, status: 'Terminated', endedAt: this.clock.now().toISOString() });
    return true;
  }

  /** From now on, terminate reports success for this session but leaves it open, as a stuck agent can. */
  refuseTermination(sessionId: string): void {
    this.refusingTermination.add(sessionId);
  }

  /** Like TerminateSession: succeeds for unknown or already ended ids, and for sessions refusing to end. */
  terminate(sessionId: string): void {
    if (this.refusingTermination.has(sessionId)) return;
    this.end(sessionId);
  }

  openOwnedBy(owner: string): SessionInfo[] {
    return structuredClone([...this.open.values()].filter((s) => s.owner === owner));
  }

  active(): SessionInfo[] {
    return structuredClone([...this.open.values()]);
  }

  /** Ended sessions, oldest end first. */
  history(): SessionInfo[] {
    return structuredClone(this.ended);
  }

  /** Ended sessions that started at or after `afterIso` (State=History, InvokedAfter). */
  endedSince(afterIso: string): SessionInfo[] {
    const after = Date.parse(afterIso);
    return structuredClone(this.ended.filter((s) => Date.parse(s.startedAt ?? '') >= after));
  }

  /** Who started the known session a `…:session/<id>` ARN names, read off its owner ARN. */
  starterOf(resource: string): Principal | undefined {
    const id = /:session\/([^/]+)$/.exec(resource)?.[1];
    const session = id && (this.open.get(id) ?? this.ended.find((s) => s.id === id));
    if (!session) return undefined;
    const owner = /:(user|assumed-role)\/(.+)$/.exec(session.owner);
    if (!owner) return undefined;
    const parts = owner[2]!.split('/');
    return owner[1] === 'user'
      ? { kind: 'user', name: parts.at(-1)! }
      : { kind: 'access-role', name: parts[0]!, sessionName: parts[1] ?? '' };
  }

  snapshot(): SimulatedSessionsState {
    return structuredClone({ openSessions: [...this.open.values()], endedSessions: this.ended });
  }

  restore(state: SimulatedSessionsState): void {
    const s = structuredClone(state);
    this.open.clear();
    for (const session of s.openSessions) this.open.set(session.id, session);
    this.ended.length = 0;
    this.ended.push(...s.endedSessions);
    this.refusingTermination.clear();
  }
}
