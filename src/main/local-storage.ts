import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDynamoGrantStore } from '../adapters/dynamodb/grant-store';
import { ensureTable, recreateTable, startDynalite } from '../adapters/dynamodb/local';
import type { Config } from '../config/types';
import type { Logger } from '../ports/logger';
import { limitedRequestHandler } from './aws-clients';
import { StartupError } from './startup-error';

type Env = Record<string, string | undefined>;

/**
 * The local server's table: the one `KEYTURN_TABLE` names (or the start option, for the benchmark's
 * own dynalite), else an embedded dynalite, kept in the state directory when there is one.
 */
export async function openStorage(
  env: Env,
  config: Config,
  logger: Logger,
  stateDir?: string,
  given?: { endpoint: string; tableName: string },
) {
  const region = env.AWS_REGION ?? config.aws.region;
  const tableName = given?.tableName ?? env.KEYTURN_TABLE;
  if (tableName) {
    const client = new DynamoDBClient(
      given
        ? {
            region,
            endpoint: given.endpoint,
            credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
          }
        : // A real table: each attempt bounded as every AWS client's is (aws-clients.ts).
          { region, requestHandler: limitedRequestHandler() },
    );
    return {
      grants: createDynamoGrantStore({
        documentClient: DynamoDBDocumentClient.from(client),
        tableName,
      }),
      table: { documentClient: DynamoDBDocumentClient.from(client), tableName },
      description: `DynamoDB table ${tableName}`,
      close: async () => client.destroy(),
      reset: async () => {
        throw new StartupError('a real DynamoDB table is never reset from here');
      },
    };
  }
  const local = await startDynalite(stateDir ? { path: `${stateDir}/dynalite` } : {});
  const client = new DynamoDBClient({
    region,
    endpoint: local.endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  await ensureTable(client, 'keyturn');
  logger.info(
    { endpoint: local.endpoint, ...(stateDir ? { path: `${stateDir}/dynalite` } : {}) },
    stateDir
      ? `using embedded DynamoDB (dynalite) kept in ${stateDir}/; npm start -- --reset starts clean`
      : 'using embedded DynamoDB (dynalite); state lasts until the process stops',
  );
  return {
    grants: createDynamoGrantStore({
      documentClient: DynamoDBDocumentClient.from(client),
      tableName: 'keyturn',
    }),
    table: { documentClient: DynamoDBDocumentClient.from(client), tableName: 'keyturn' },
    description: stateDir ? `embedded dynalite in ${stateDir}/` : 'embedded dynalite (in memory)',
    reset: () => recreateTable(client, 'keyturn'),
    close: async () => {
      client.destroy();
      await local.close();
    },
  };
}
