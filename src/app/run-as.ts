import type { Grant } from '../domain/grant';
import type { Deps } from './deps';

/** The tag is the principal's, not the grant's: keep it while another active grant set the same value. */
export async function clearRunAsUnlessNeeded(
  deps: Pick<Deps, 'grants' | 'access'>,
  grant: Grant,
): Promise<void> {
  if (!grant.runAsSet) return;
  const others = await deps.grants.listByStatus('active');
  const stillNeeded = others.some(
    (g) =>
      g.id !== grant.id &&
      !g.ending &&
      g.runAsSet === grant.runAsSet &&
      g.principal.kind === grant.principal.kind &&
      g.principal.name === grant.principal.name,
  );
  if (!stillNeeded) await deps.access.clearRunAs(grant.principal);
}
