import type { Grant } from '../domain/grant';
import { isCurrentPrincipal } from '../domain/grant-authority';
import type { Deps } from './deps';

/**
 * The tag is the principal's, not the grant's: keep it while another grant of the same principal
 * needs the same value, whether active or still being applied (approved).
 */
export async function clearRunAsUnlessNeeded(
  deps: Pick<Deps, 'config' | 'grants' | 'access'>,
  grant: Grant,
): Promise<void> {
  if (!grant.runAsSet) return;
  // Only a principal Keyturn would tag for this requester now: a record written straight into the
  // table (issue 11) must not strip the tag an operator set on some other user or role.
  if (!isCurrentPrincipal(deps.config.people[grant.requester], grant.principal)) return;
  const samePrincipal = (g: Grant) =>
    g.id !== grant.id &&
    g.principal.kind === grant.principal.kind &&
    g.principal.name === grant.principal.name;
  const active = await deps.grants.listByStatus('active');
  const applying = await deps.grants.listByStatus('approved');
  const stillNeeded =
    active.some((g) => samePrincipal(g) && !g.ending && g.runAsSet === grant.runAsSet) ||
    applying.some((g) => samePrincipal(g) && deps.config.targets[g.target]?.runAs === grant.runAsSet);
  if (!stillNeeded) await deps.access.clearRunAs(grant.principal);
}
