import { Entity, item, string } from 'dynamodb-toolbox';
import { claimOnce, getConsistent } from './entity-store';
import { writeId } from './stored-values';
import type { KeyturnTable } from './table';

/**
 * Slack's `trigger_id` of a slash command, claimed once by the record it made (`/run` → a run,
 * `/access` → a grant). Slack retries an unacknowledged request with the same body, and a captured
 * signed request can be replayed for 5 minutes (FACTS.md "Slack"): both find the claim and get the
 * first record back instead of making another. Items live at `<KIND>REQ#<trigger_id>`.
 */
export function createRequestKeys(table: KeyturnTable, kind: 'RUN' | 'GRANT') {
  const entity = new Entity({
    name: kind === 'RUN' ? 'RunRequest' : 'GrantRequest',
    table,
    timestamps: false,
    schema: item({ requestKey: string().key(), ownerId: string(), writeId: writeId() }),
    computeKey: ({ requestKey }) => ({ pk: `${kind}REQ#${requestKey}`, sk: `${kind}REQ` }),
  });

  /**
   * Claims `requestKey` for `ownerId`. Call it after writing the owner, so a claim only ever names a
   * record that was stored. Returns the holder's id when another record claimed it first.
   */
  async function claim(requestKey: string, ownerId: string): Promise<RequestClaim> {
    if (await claimOnce(entity, { requestKey, ownerId }, 'ownerId')) return { claimed: true };
    const held = await getConsistent(entity, { requestKey });
    return held ? { claimed: false, holder: held.ownerId } : { claimed: false };
  }

  return {
    entity,
    claim,
    /**
     * The same, for the record just written: when another record holds the key, `withdraw` removes
     * the new one (nobody has seen it yet; the caller only announces a record it kept).
     */
    async claimOrWithdraw(
      requestKey: string,
      ownerId: string,
      withdraw: () => Promise<void>,
    ): Promise<RequestClaim> {
      const outcome = await claim(requestKey, ownerId);
      if (!outcome.claimed) await withdraw();
      return outcome;
    },
  };
}

export type RequestClaim = { claimed: true } | { claimed: false; holder?: string };
