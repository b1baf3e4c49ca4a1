import {
  Entity,
  GetItemCommand,
  isConditionCheckFailed,
  item,
  PutItemCommand,
  string,
} from 'dynamodb-toolbox';
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
    schema: item({ requestKey: string().key(), ownerId: string() }),
    computeKey: ({ requestKey }) => ({ pk: `${kind}REQ#${requestKey}`, sk: `${kind}REQ` }),
  });

  return {
    entity,
    /**
     * Claims `requestKey` for `ownerId`. Call it after writing the owner, so a claim only ever names a
     * record that was stored. Returns the holder's id when another record claimed it first.
     */
    async claim(
      requestKey: string,
      ownerId: string,
    ): Promise<{ claimed: true } | { claimed: false; holder?: string }> {
      try {
        await entity
          .build(PutItemCommand)
          .item({ requestKey, ownerId })
          .options({ condition: { attr: 'ownerId', exists: false } })
          .send();
        return { claimed: true };
      } catch (error) {
        if (!isConditionCheckFailed(error)) throw error;
      }
      const held = await entity
        .build(GetItemCommand)
        .key({ requestKey })
        .options({ consistent: true })
        .send();
      return held.Item ? { claimed: false, holder: held.Item.ownerId } : { claimed: false };
    },
  };
}
