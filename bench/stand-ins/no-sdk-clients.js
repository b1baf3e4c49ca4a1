// For `bench/cold-start.ts --attribution` only, never deployed: the DynamoDB, DynamoDB document and SQS clients
// replaced by classes that do nothing, so a bundle built with it shows what the slack function's cold start
// would be if those clients cost nothing to load (the floor for any lighter client). It cannot serve a request
// that writes; the benchmark's first request (unsigned, answered 401) writes nothing.
class Command {
  constructor(input) {
    this.input = input;
  }
}
for (const name of [
  'PutCommand',
  'GetCommand',
  'DeleteCommand',
  'UpdateCommand',
  'QueryCommand',
  'ScanCommand',
  'BatchGetCommand',
  'BatchWriteCommand',
  'TransactGetCommand',
  'TransactWriteCommand',
  'SendMessageCommand',
  'ChangeMessageVisibilityCommand',
])
  exports[name] = class extends Command {};
class Client {
  async send() {
    throw new Error('bench/stand-ins/no-sdk-clients.js: no AWS client in this bundle');
  }
}
exports.DynamoDBClient = Client;
exports.SQSClient = Client;
exports.DynamoDBDocumentClient = { from: () => new Client() };
