import type { Grant } from '../domain/grant';
import type { GrantStore } from '../ports/grant-store';
import type { Job } from '../ports/work-queue';

/**
 * Saves a change that is not a status move (e.g. storing a card reference), retrying on lost races.
 * `change` returns undefined when there is nothing (left) to do.
 */
export async function transitionlessUpdate(
  grants: GrantStore,
  grantId: string,
  change: (grant: Grant) => Grant | undefined,
): Promise<Grant | undefined> {
  for (let race = 0; race < 10; race++) {
    const current = await grants.get(grantId);
    if (!current) return undefined;
    const changed = change(current);
    if (!changed) return undefined;
    const next = { ...changed, version: current.version + 1 };
    if ((await grants.save(next, current.version)) === 'saved') return next;
  }
  throw new Error(`grant ${grantId} kept changing under 10 attempts to update it`);
}

/** The job that announces a grant's latest history step (once: the step keys its one-time DM). */
export function grantChanged(grant: Grant): Job {
  return { kind: 'grant-changed', grantId: grant.id, step: grant.history.length - 1 };
}
