import { randomUUID } from 'node:crypto';

/**
 * The slack function's DynamoDB transport (src/adapters/aws/signed-dynamodb.ts) under the grant and
 * command run stores' whole integration suites, against dynalite: here `@aws-sdk/lib-dynamodb` is the
 * signed module, as deploy/esbuild-plugins.js makes it in the slack bundle, so dynamodb-toolbox builds
 * its commands and every store call (conditional puts and updates, lost races as
 * ConditionalCheckFailedException, strongly consistent gets, paged index queries) goes over the signed
 * JSON protocol. test/support/dynalite.ts hands out the signed client; the table itself is still made
 * with the SDK's client, and a middleware a suite adds to that client (to count Query calls) is run
 * for each signed request instead, with the operation's SDK command name and its input.
 */
jest.mock('@aws-sdk/lib-dynamodb', () => jest.requireActual('../../src/adapters/aws/signed-dynamodb'));
jest.mock('../support/dynalite', () => {
  const { DynamoDBClient } = jest.requireActual('@aws-sdk/client-dynamodb');
  const { ensureTable, startDynalite } = jest.requireActual('../../src/adapters/dynamodb/local');
  const { createSignedDocumentClient } = jest.requireActual('../../src/adapters/aws/signed-dynamodb');
  const { nodePost } = jest.requireActual('../../src/adapters/aws/signed-json');
  type Middleware = (
    next: (args: unknown) => Promise<unknown>,
    context: { commandName: string },
  ) => (args: { input: unknown }) => Promise<unknown>;
  return {
    async startTestTable() {
      const dynalite = await startDynalite();
      const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
      const client = new DynamoDBClient({ endpoint: dynalite.endpoint, region: 'us-east-1', credentials });
      const tableName = `keyturn-test-${randomUUID()}`;
      await ensureTable(client, tableName);
      const watchers: Middleware[] = [];
      client.middlewareStack.add = (middleware: Middleware) => watchers.push(middleware);
      const documentClient = createSignedDocumentClient({
        post: async (url: URL, init: { headers: Record<string, string>; body: string }) => {
          const operation = String(init.headers['x-amz-target']).split('.')[1];
          for (const watch of watchers)
            await watch(async () => ({}), { commandName: `${operation}Command` })({
              input: JSON.parse(init.body),
            });
          return nodePost(url, init);
        },
        env: {
          AWS_ENDPOINT_URL_DYNAMODB: dynalite.endpoint,
          AWS_ACCESS_KEY_ID: credentials.accessKeyId,
          AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
        },
        region: 'us-east-1',
      });
      return {
        documentClient,
        client,
        tableName,
        close: async () => {
          client.destroy();
          await dynalite.close();
        },
      };
    },
  };
});

it('runs the store suites with lib-dynamodb resolved to the signed client', () => {
  const { GetCommand } = jest.requireMock('@aws-sdk/lib-dynamodb');
  expect(new GetCommand({ TableName: 't', Key: { pk: 'a' } })).toMatchObject({ operation: 'GetItem' });
});

describe('grant store over the signed client', () => {
  require('./dynamodb-grant-store.test');
});

describe('command run store over the signed client', () => {
  require('./dynamodb-command-run-store.test');
});
