import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { createJsonCall, type SignedCallOptions, signed } from './signed-json';

/**
 * The slack function's DynamoDB: the document client's item calls (GetItem, PutItem, UpdateItem,
 * DeleteItem, Query) as signed JSON-protocol requests (src/adapters/aws/signed-json.ts), marshalled as
 * `@aws-sdk/lib-dynamodb` marshals them (`@aws-sdk/util-dynamodb`, top-level containers kept, numbers as
 * JS numbers). dynamodb-toolbox builds `new PutCommand(params)` from lib-dynamodb and calls
 * `documentClient.send(command)`: in the slack bundle only, an esbuild plugin resolves
 * `@aws-sdk/lib-dynamodb` to this module (deploy/esbuild-plugins.js), so its commands are these input
 * holders and the SDK's clients stay out of that bundle (BENCHMARKS.md, item 3). Errors keep the SDK's
 * names (`ConditionalCheckFailedException`, which dynamodb-toolbox's `isConditionCheckFailed` reads, with
 * the stored `Item` when asked for), retries are the SDK's standard mode. A command the ack path never
 * sends (batch, transaction, scan) fails loudly instead of being sent unmarshalled.
 */

type AttributeMap = Record<string, unknown>;

/** What each supported operation marshals in and unmarshals out, as lib-dynamodb's commands declare it. */
const OPERATIONS = {
  GetItem: { input: ['Key'], output: ['Item'] },
  PutItem: { input: ['Item', 'ExpressionAttributeValues'], output: ['Attributes'] },
  UpdateItem: { input: ['Key', 'ExpressionAttributeValues'], output: ['Attributes'] },
  DeleteItem: { input: ['Key', 'ExpressionAttributeValues'], output: ['Attributes'] },
  Query: { input: ['ExclusiveStartKey', 'ExpressionAttributeValues'], output: ['LastEvaluatedKey'] },
} as const;
type Operation = keyof typeof OPERATIONS;

/** The legacy parameters lib-dynamodb also marshals; dynamodb-toolbox never sets them, so neither does this. */
const LEGACY = ['Expected', 'AttributeUpdates', 'KeyConditions', 'QueryFilter'];

abstract class DocumentCommand<I extends object = Record<string, unknown>> {
  abstract readonly operation: Operation | 'unsupported';
  constructor(readonly input: I) {}
}

export class GetCommand extends DocumentCommand {
  readonly operation = 'GetItem';
}
export class PutCommand extends DocumentCommand {
  readonly operation = 'PutItem';
}
export class UpdateCommand extends DocumentCommand {
  readonly operation = 'UpdateItem';
}
export class DeleteCommand extends DocumentCommand {
  readonly operation = 'DeleteItem';
}
export class QueryCommand extends DocumentCommand {
  readonly operation = 'Query';
}
/** Imported by dynamodb-toolbox's other actions; the ack path never sends them. */
class Unsupported extends DocumentCommand {
  readonly operation = 'unsupported';
}
export class ScanCommand extends Unsupported {}
export class BatchGetCommand extends Unsupported {}
export class BatchWriteCommand extends Unsupported {}
export class TransactGetCommand extends Unsupported {}
export class TransactWriteCommand extends Unsupported {}

export interface SignedDocumentClient {
  send(command: { input: object; operation?: string }): Promise<Record<string, unknown>>;
}

export function createSignedDocumentClient(opts: SignedCallOptions): SignedDocumentClient {
  const call = createJsonCall({
    service: 'dynamodb',
    targetPrefix: 'DynamoDB_20120810',
    jsonVersion: '1.0',
    ...signed(opts),
  });
  return {
    async send(command) {
      const operation = command.operation;
      if (!operation || !(operation in OPERATIONS))
        throw new Error(
          `the slack function's DynamoDB client sends only ${Object.keys(OPERATIONS).join(', ')}; got ${command.constructor.name}`,
        );
      const shape = OPERATIONS[operation as Operation];
      const input = { ...(command.input as Record<string, unknown>) };
      for (const key of LEGACY)
        if (input[key] !== undefined)
          throw new Error(`${operation}: ${key} is not supported, use expressions`);
      for (const key of shape.input) {
        const value = input[key];
        if (value === undefined) delete input[key];
        else input[key] = marshallValues(value as AttributeMap);
      }
      const output = await call(operation, input);
      for (const key of shape.output) {
        const value = output[key];
        if (value !== undefined) output[key] = unmarshallValues(value as AttributeMap);
      }
      if (operation === 'Query' && Array.isArray(output.Items))
        output.Items = output.Items.map((item) => unmarshallValues(item as AttributeMap));
      const metrics = output.ItemCollectionMetrics as { ItemCollectionKey?: AttributeMap } | undefined;
      if (metrics?.ItemCollectionKey)
        output.ItemCollectionMetrics = {
          ...metrics,
          ItemCollectionKey: unmarshallValues(metrics.ItemCollectionKey),
        };
      return { ...output, $metadata: { httpStatusCode: 200 } };
    },
  };
}

/** lib-dynamodb's `ALL_VALUES`: each value of the map marshalled on its own, undefined ones left out. */
function marshallValues(values: AttributeMap): AttributeMap {
  const out: AttributeMap = {};
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined || typeof value === 'function') continue;
    out[key] = marshall(value as never, { convertTopLevelContainer: true });
  }
  return out;
}

function unmarshallValues(values: AttributeMap): AttributeMap {
  const out: AttributeMap = {};
  for (const [key, value] of Object.entries(values))
    out[key] = unmarshall(value as never, { convertWithoutMapWrapper: true });
  return out;
}
