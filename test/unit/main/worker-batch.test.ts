import type { SQSEvent, SQSRecord } from 'aws-lambda';
import type { Deps } from '../../../src/app/deps';
import { runJobBatch } from '../../../src/main/worker-batch';
import { SimulatedAccount } from '../../../src/adapters/sandbox/simulated-account';
import type { JobRetry } from '../../../src/ports/work-queue';
import {
  onePlace,
  ManualClock,
  MemoryGrantStore,
  RecordingChat,
  RecordingQueue,
  runFakes,
  sessionFakes,
  silentLogger,
  testConfig,
} from '../../support/fakes';

function record(messageId: string, body: string, receiveCount = '1'): SQSRecord {
  return {
    messageId,
    body,
    receiptHandle: `receipt-${messageId}`,
    attributes: { ApproximateReceiveCount: receiveCount },
  } as SQSRecord;
}

class RecordingJobRetry implements JobRetry {
  readonly calls: { receiptHandle: string; seconds: number }[] = [];
  failWith: Error | undefined;
  async retryIn(receiptHandle: string, seconds: number): Promise<void> {
    this.calls.push({ receiptHandle, seconds });
    if (this.failWith) throw this.failWith;
  }
}

/** A worker whose grant store throws for the grant id `boom` (and finds nothing else). */
function workerDeps(): Deps {
  const config = testConfig();
  const clock = new ManualClock(new Date('2026-11-23T10:00:00Z'));
  const grants = new MemoryGrantStore();
  const failing = new MemoryGrantStore();
  failing.get = async (id) => {
    if (id === 'boom') throw new Error('DynamoDB unavailable');
    return grants.get(id);
  };
  return {
    config,
    grants: failing,
    queue: new RecordingQueue(),
    aws: onePlace({
      access: new SimulatedAccount({ ...config.aws, nodes: [...config.sandbox.fleet], clock }),
      fleet: new SimulatedAccount({ ...config.aws, nodes: [...config.sandbox.fleet], clock }),
    }),
    chat: new RecordingChat(),
    clock,
    logger: silentLogger,
    newId: () => 'x',
    ...sessionFakes(grants),
    ...runFakes({ config, clock }),
  };
}

const OK = '{"kind":"apply-grant","grantId":"missing"}';
const THROWS = '{"kind":"apply-grant","grantId":"boom"}';

describe('runJobBatch (SQS worker)', () => {
  it('reports only the messages that failed or could not be read', async () => {
    const event: SQSEvent = {
      Records: [record('ok', OK), record('garbled', '{"kind":'), record('throws', THROWS)],
    };
    expect(await runJobBatch(workerDeps(), event, new RecordingJobRetry())).toEqual({
      batchItemFailures: [{ itemIdentifier: 'garbled' }, { itemIdentifier: 'throws' }],
    });
  });

  it('brings a failed job back after a short delay for its receive count, not the 1,800 s visibility timeout', async () => {
    const retry = new RecordingJobRetry();
    const event: SQSEvent = {
      Records: [record('first', THROWS, '1'), record('ok', OK, '1'), record('third', THROWS, '3')],
    };
    const response = await runJobBatch(workerDeps(), event, retry);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'first' }, { itemIdentifier: 'third' }]);
    // The succeeded message is left alone: Lambda deletes it.
    expect(retry.calls).toEqual([
      { receiptHandle: 'receipt-first', seconds: 5 },
      { receiptHandle: 'receipt-third', seconds: 60 },
    ]);
  });

  it('gives an unreadable message the same short delay, so it reaches the dead-letter queue in minutes', async () => {
    const retry = new RecordingJobRetry();
    const event: SQSEvent = { Records: [record('garbled', 'not json', '2')] };
    expect(await runJobBatch(workerDeps(), event, retry)).toEqual({
      batchItemFailures: [{ itemIdentifier: 'garbled' }],
    });
    expect(retry.calls).toEqual([{ receiptHandle: 'receipt-garbled', seconds: 20 }]);
  });

  it('still reports a failed job when its delay cannot be set (SQS keeps it, and delivers it after the visibility timeout)', async () => {
    const retry = new RecordingJobRetry();
    retry.failWith = new Error('ReceiptHandleIsInvalid');
    const event: SQSEvent = { Records: [record('throws', THROWS, '2'), record('ok', OK)] };
    expect(await runJobBatch(workerDeps(), event, retry)).toEqual({
      batchItemFailures: [{ itemIdentifier: 'throws' }],
    });
    expect(retry.calls).toEqual([{ receiptHandle: 'receipt-throws', seconds: 20 }]);
  });

  it('leaves a batch that all succeeded untouched', async () => {
    const retry = new RecordingJobRetry();
    const event: SQSEvent = { Records: [record('a', OK), record('b', OK)] };
    expect(await runJobBatch(workerDeps(), event, retry)).toEqual({ batchItemFailures: [] });
    expect(retry.calls).toEqual([]);
  });
});
