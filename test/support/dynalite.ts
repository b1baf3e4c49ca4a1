import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ensureTable, startDynalite } from '../../src/adapters/dynamodb/local';

export interface TestTable {
  documentClient: DynamoDBDocumentClient;
  client: DynamoDBClient;
  tableName: string;
  /** Call in afterAll: an open client or server keeps jest from exiting. */
  close(): Promise<void>;
}

/** A fresh dynalite with Keyturn's table in it. Credentials and region are set here so no env is read. */
export async function startTestTable(): Promise<TestTable> {
  const dynalite = await startDynalite();
  const client = new DynamoDBClient({
    endpoint: dynalite.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  const tableName = `keyturn-test-${randomUUID()}`;
  try {
    await ensureTable(client, tableName);
  } catch (error) {
    client.destroy();
    await dynalite.close();
    throw error;
  }
  const documentClient = DynamoDBDocumentClient.from(client);
  return {
    documentClient,
    client,
    tableName,
    close: async () => {
      client.destroy();
      await dynalite.close();
    },
  };
}
