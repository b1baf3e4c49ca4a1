import type { Grant } from '../domain/grant';
import type { GrantStore } from '../ports/grant-store';
import type { Job } from '../ports/work-queue';
import { updateVersioned } from './decide-and-save';

/**
 * Saves a change that is not a status move (e.g. storing a card reference), retrying on lost races.
 * `change` returns undefined when there is nothing (left) to do.
 */
export async function transitionlessUpdate(
  grants: GrantStore,
  grantId: string,
  change: (grant: Grant) => Grant | undefined,
): Promise<Grant | undefined> {
  const updated = await updateVersioned(grants, grantId, change, 'grant');
  return updated.outcome === 'saved' ? updated.saved : undefined;
}

/** The job that announces a grant's latest history step (once: the step keys its one-time DM). */
export function grantChanged(grant: Grant): Job {
  return { kind: 'grant-changed', grantId: grant.id, step: grant.history.length - 1 };
}
