import type { ManagedNode } from '../domain/node';

/** Systems Manager's view of the nodes, as the use cases need it. */
export interface Fleet {
  /** Every managed node carrying all of `tags` (all pages), with its ping status. */
  nodesTagged(tags: Readonly<Record<string, string>>): Promise<ManagedNode[]>;
}
