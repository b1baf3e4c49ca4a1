import type { Config } from '../src/config/types';
import { localDay } from '../src/domain/digest';
import type { Grant, GrantStatus, HistoryEntry } from '../src/domain/grant';
import type { Session } from '../src/domain/session';
import { benchConfig, benchPrincipal, benchUser } from './bench-config';

/**
 * One busy day for the digest (item 6): Monday 2026-11-23 in Asia/Tokyo, which spans two UTC dates
 * (two byDay partitions each), with 20,000 requests from 2,000 people and 100,000 sessions.
 */
export const PEOPLE = 2_000;
export const DAY = localDay('2026-11-23', 'Asia/Tokyo');
/** 09:00 Tokyo the next morning, when the digest is posted. */
export const DIGEST_NOW = '2026-11-24T00:00:00.000Z';
const ACCOUNT = '123456789012';
const MINUTE = 60_000;

export function digestBenchConfig(): Config {
  const config = benchConfig({ people: PEOPLE });
  return { ...config, digest: { at: '09:00', timezone: DAY.timeZone } };
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Outcomes in proportions a busy team might see; `active` ones are still running at digest time. */
function statusOf(i: number): GrantStatus {
  const r = i % 100;
  if (r < 70) return 'expired';
  if (r < 78) return 'released';
  if (r < 85) return 'denied';
  if (r < 89) return 'lapsed';
  if (r < 93) return 'cancelled';
  if (r < 95) return 'failed';
  if (r < 98) return 'active';
  return 'pending';
}

export function dayGrant(i: number, count: number): Grant {
  const person = 1 + (i % PEOPLE);
  const start = Date.parse(DAY.start);
  const span = Date.parse(DAY.end) - start;
  const requestedMs = start + Math.floor((i * span) / count);
  const requestedAt = iso(requestedMs);
  const status = statusOf(i);
  const requester = benchUser(person);
  const history: HistoryEntry[] = [{ at: requestedAt, from: null, to: 'pending', by: requester }];
  const grant: Grant = {
    id: `d${i}`,
    requester,
    principal: benchPrincipal(person),
    target: 'prod-raspi',
    durationMinutes: 60,
    reason: `digest bench ${i}: replace sensor on line ${i % 7}`,
    status,
    version: 1,
    requestedAt,
    approvals: [],
    history,
    card: { channel: 'C0APPROVALS', ts: `1700000000.${String(i).padStart(6, '0')}` },
  };
  const decidedAt = iso(requestedMs + (2 + (i % 13)) * MINUTE);
  if (status === 'denied') {
    history.push({ at: decidedAt, from: 'pending', to: 'denied', by: 'U0CAROL' });
    return { ...grant, decidedAt, decidedBy: 'U0CAROL', version: 2 };
  }
  if (status === 'pending' || status === 'lapsed' || status === 'cancelled') {
    if (status !== 'pending') history.push({ at: decidedAt, from: 'pending', to: status, by: requester });
    return { ...grant, version: history.length };
  }
  const expiresMs = Date.parse(decidedAt) + 60 * MINUTE;
  history.push({ at: decidedAt, from: 'pending', to: 'approved', by: 'U0CAROL' });
  if (status === 'failed') {
    history.push({ at: decidedAt, from: 'approved', to: 'failed', by: 'keyturn' });
    return { ...grant, decidedAt, decidedBy: 'U0CAROL', version: history.length };
  }
  history.push({ at: decidedAt, from: 'approved', to: 'active', by: 'keyturn' });
  const approved: Grant = {
    ...grant,
    approvals: [{ by: 'U0CAROL', at: decidedAt }],
    decidedAt,
    decidedBy: 'U0CAROL',
    startsAt: decidedAt,
    expiresAt: iso(status === 'active' ? Date.parse(DIGEST_NOW) + 30 * MINUTE : expiresMs),
    policyArn: `arn:aws:iam::${ACCOUNT}:policy/keyturn/keyturn-d${i}`,
  };
  if (status === 'active') return { ...approved, version: history.length };
  const endedAt = iso(status === 'released' ? expiresMs - 20 * MINUTE : expiresMs);
  history.push({
    at: endedAt,
    from: 'active',
    to: status,
    by: status === 'released' ? requester : 'keyturn',
  });
  return { ...approved, version: history.length, sessionsEnded: 1 };
}

/** The day's sessions, each inside the window of an approved grant of the day. */
export function daySession(i: number, approved: readonly Grant[]): Session {
  const grant = approved[i % approved.length] as Grant;
  const windowStart = Date.parse(grant.startsAt ?? grant.requestedAt);
  let startMs = windowStart + (i % 40) * MINUTE + (i % 59) * 1000;
  // The last grants' sessions would spill into the next day: move them back into it, spread out
  // (dynalite lost an index entry when thousands of items shared one sort key).
  if (startMs >= Date.parse(DAY.end) - 30 * MINUTE) startMs -= 3 * 60 * MINUTE;
  const endMs = startMs + (3 + (i % 17)) * MINUTE;
  const startedAt = new Date(startMs).toISOString();
  const endedAt = new Date(endMs).toISOString();
  const settled = new Date(endMs + 2 * MINUTE).toISOString();
  return {
    id: `${grant.principal.name}-${i.toString(16).padStart(17, '0')}`,
    version: 4,
    status: 'ended',
    firstSeenAt: startedAt,
    owner: `arn:aws:iam::${ACCOUNT}:user/${grant.principal.name}`,
    node: { id: `mi-0a1b2c3d4e5f6${String(i % 1000).padStart(4, '0')}`, name: `raspi-line-${i % 1000}` },
    document: i % 5 === 0 ? 'ssh' : 'shell',
    documentName: i % 5 === 0 ? 'AWS-StartSSHSession' : 'SSM-SessionManagerRunShell',
    startedAt,
    endedAt,
    end: { kind: 'api-call', by: grant.principal.name },
    grantId: grant.id,
    outputUrl: `https://s3.console.aws.amazon.com/s3/object/keyturn-session-logs/${i}.log`,
    historyAt: settled,
    startPostedAt: startedAt,
    summaryPostedAt: settled,
    settledAt: settled,
  };
}
