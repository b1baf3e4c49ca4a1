import { PutItemCommand } from 'dynamodb-toolbox';
import type { AnomalyLog } from '../../ports/anomaly-log';
import { createAnomalyEntity, toStoredAnomaly } from './anomaly-entity';
import type { StoreOptions } from './entity-store';
import { createKeyturnTable } from './table';

export function createDynamoAnomalyLog(opts: StoreOptions): AnomalyLog {
  const entity = createAnomalyEntity(createKeyturnTable(opts.documentClient, opts.tableName));
  return {
    async record(anomaly) {
      // Keyed by anomalyId: the same anomaly recorded again overwrites itself, so no condition is needed.
      await entity.build(PutItemCommand).item(toStoredAnomaly(anomaly)).send();
    },
  };
}
