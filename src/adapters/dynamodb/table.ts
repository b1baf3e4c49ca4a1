import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Table } from 'dynamodb-toolbox';

/**
 * Keyturn's single table (DESIGN.md "State"). Every entity (grants, their open slots and claimed
 * effects, later sessions and command runs) lives here under generic string keys, so adding an
 * entity never needs a table migration. Index attributes are written by each entity's store:
 *  - byStatus    gsi1pk/gsi1sk: `STATUS#<status>` / ending.at ?? expiresAt ?? requestedAt (the sweeper)
 *  - byDay       gsi2pk/gsi2sk: `DAY#<YYYY-MM-DD>` / requestedAt (the digest)
 *  - byRequester gsi3pk/gsi3sk: `REQUESTER#<slack user>` / requestedAt
 */
const KEYS = {
  partitionKey: { name: 'pk', type: 'string' },
  sortKey: { name: 'sk', type: 'string' },
  indexes: {
    byStatus: {
      type: 'global',
      partitionKey: { name: 'gsi1pk', type: 'string' },
      sortKey: { name: 'gsi1sk', type: 'string' },
    },
    byDay: {
      type: 'global',
      partitionKey: { name: 'gsi2pk', type: 'string' },
      sortKey: { name: 'gsi2sk', type: 'string' },
    },
    byRequester: {
      type: 'global',
      partitionKey: { name: 'gsi3pk', type: 'string' },
      sortKey: { name: 'gsi3sk', type: 'string' },
    },
  },
} as const;

export function createKeyturnTable(documentClient: DynamoDBDocumentClient, tableName: string) {
  return new Table({ documentClient, name: tableName, ...KEYS });
}

export type KeyturnTable = ReturnType<typeof createKeyturnTable>;

/** The byDay index attributes for something that happened at `at`: its UTC day, as the digest bounds days. */
export function byDayKeys(at: string) {
  return { gsi2pk: `DAY#${at.slice(0, 10)}`, gsi2sk: at };
}

/** The same shape for local mode, tests and serverless.yml, derived from the keys the entities use. */
export function tableDefinition(tableName: string): CreateTableCommandInput {
  const attributeNames = [
    KEYS.partitionKey.name,
    KEYS.sortKey.name,
    ...Object.values(KEYS.indexes).flatMap((index) => [index.partitionKey.name, index.sortKey.name]),
  ];
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: attributeNames.map((AttributeName) => ({ AttributeName, AttributeType: 'S' })),
    KeySchema: [
      { AttributeName: KEYS.partitionKey.name, KeyType: 'HASH' },
      { AttributeName: KEYS.sortKey.name, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: Object.entries(KEYS.indexes).map(([IndexName, index]) => ({
      IndexName,
      KeySchema: [
        { AttributeName: index.partitionKey.name, KeyType: 'HASH' },
        { AttributeName: index.sortKey.name, KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'ALL' },
    })),
  };
}
