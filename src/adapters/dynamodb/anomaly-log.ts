import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { PutItemCommand } from 'dynamodb-toolbox';
import type { AnomalyLog } from '../../ports/anomaly-log';
import { createAnomalyEntity, toStoredAnomaly } from './anomaly-entity';
import { createKeyturnTable } from './table';

export function createDynamoAnomalyLog(opts: {
  documentClient: DynamoDBDocumentClient;
  tableName: string;
}): AnomalyLog {
  const entity = createAnomalyEntity(createKeyturnTable(opts.documentClient, opts.tableName));
  return {
    async record(anomaly) {
      // Keyed by anomalyId: the same anomaly recorded again overwrites itself, so no condition is needed.
      await entity.build(PutItemCommand).item(toStoredAnomaly(anomaly)).send();
    },
  };
}
