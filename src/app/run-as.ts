import type { Grant } from '../domain/grant';
import { isCurrentPrincipal } from '../domain/grant-authority';
import { principalOfUser } from '../domain/person';
import { samePrincipal } from '../domain/principal';
import type { Deps } from './deps';
import { accessFor, placeOf } from './places';

/**
 * The tag is the principal's, not the grant's: keep it while another grant of the same principal
 * needs the same value, whether active or still being applied (approved).
 */
export async function clearRunAsUnlessNeeded(
  deps: Pick<Deps, 'config' | 'grants' | 'aws'>,
  grant: Grant,
): Promise<void> {
  if (!grant.runAsSet) return;
  // Only a principal Keyturn would tag for this requester now: a record written straight into the
  // table (issue 11) must not strip the tag an operator set on some other user or role.
  if (!isCurrentPrincipal(principalOfUser(deps.config.people, grant.requester), grant.principal)) return;
  // The tag is on the principal in one account: another account's access role is another role.
  const account = placeOf(deps.config, grant).accountId;
  const sameOwner = (g: Grant) =>
    g.id !== grant.id &&
    placeOf(deps.config, g).accountId === account &&
    samePrincipal(g.principal, grant.principal);
  const active = await deps.grants.listByStatus('active');
  const applying = await deps.grants.listByStatus('approved');
  const stillNeeded =
    active.some((g) => sameOwner(g) && !g.ending && g.runAsSet === grant.runAsSet) ||
    applying.some((g) => sameOwner(g) && deps.config.targets[g.target]?.runAs === grant.runAsSet);
  if (!stillNeeded) await accessFor(deps, grant).clearRunAs(grant.principal);
}
