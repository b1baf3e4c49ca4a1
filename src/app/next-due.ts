import type { Deps } from './deps';

/**
 * The earliest instant after `after` at which the sweeper has something to do: an expiry (or a
 * recorded ending), an expiry warning, or a request's lapse. The sandbox steps its clock jumps
 * through these, so each happens when it would have on a real clock, not at the end of the jump.
 */
export async function nextSweepDue(
  deps: Pick<Deps, 'config' | 'grants'>,
  after: Date,
): Promise<Date | undefined> {
  const times: number[] = [];
  for (const g of await deps.grants.listByStatus('active')) {
    const target = deps.config.targets[g.target];
    const end = g.ending?.at ?? g.expiresAt;
    if (end) times.push(Date.parse(end));
    if (g.expiresAt && target && !g.ending)
      times.push(Date.parse(g.expiresAt) - target.warnBeforeMinutes * 60_000);
  }
  for (const g of await deps.grants.listByStatus('pending')) {
    const target = deps.config.targets[g.target];
    if (target) times.push(Date.parse(g.requestedAt) + target.approvalTimeoutMinutes * 60_000);
  }
  const next = Math.min(...times.filter((t) => t > after.getTime()));
  return Number.isFinite(next) ? new Date(next) : undefined;
}
