import type { SQSEvent, SQSRecord } from 'aws-lambda';
import type { Deps } from '../../../src/app/deps';
import { runJobBatch } from '../../../src/main/lambda';
import { SimulatedAccount } from '../../../src/adapters/sandbox/simulated-account';
import {
  ManualClock,
  MemoryGrantStore,
  RecordingChat,
  RecordingQueue,
  runFakes,
  sessionFakes,
  silentLogger,
  testConfig,
} from '../../support/fakes';

function record(messageId: string, body: string): SQSRecord {
  return { messageId, body } as SQSRecord;
}

describe('runJobBatch (SQS worker)', () => {
  it('reports only the messages that failed or could not be read', async () => {
    const config = testConfig();
    const clock = new ManualClock(new Date('2026-11-23T10:00:00Z'));
    const grants = new MemoryGrantStore();
    const failing = new MemoryGrantStore();
    failing.get = async (id) => {
      if (id === 'boom') throw new Error('DynamoDB unavailable');
      return grants.get(id);
    };
    const deps: Deps = {
      config,
      grants: failing,
      queue: new RecordingQueue(),
      access: new SimulatedAccount({ ...config.aws, nodes: [...config.sandbox.fleet], clock }),
      fleet: new SimulatedAccount({ ...config.aws, nodes: [...config.sandbox.fleet], clock }),
      chat: new RecordingChat(),
      clock,
      logger: silentLogger,
      newId: () => 'x',
      ...sessionFakes(grants),
      ...runFakes({ config, clock }),
    };
    const event: SQSEvent = {
      Records: [
        record('ok', '{"kind":"apply-grant","grantId":"missing"}'),
        record('garbled', '{"kind":'),
        record('throws', '{"kind":"apply-grant","grantId":"boom"}'),
      ],
    };
    expect(await runJobBatch(deps, event)).toEqual({
      batchItemFailures: [{ itemIdentifier: 'garbled' }, { itemIdentifier: 'throws' }],
    });
  });
});
