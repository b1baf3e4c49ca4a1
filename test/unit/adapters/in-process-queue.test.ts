import { InProcessQueue } from '../../../src/adapters/memory/in-process-queue';
import { SimulatedAccount } from '../../../src/adapters/sandbox/simulated-account';
import { decideOnGrant } from '../../../src/app/decide';
import type { Deps } from '../../../src/app/deps';
import { handleJob } from '../../../src/app/handle-job';
import { requestAccess } from '../../../src/app/request-access';
import type { Logger } from '../../../src/ports/logger';
import type { Job } from '../../../src/ports/work-queue';
import {
  onePlace,
  ManualClock,
  MemoryGrantStore,
  RecordingChat,
  runFakes,
  sessionFakes,
  silentLogger,
  testConfig,
} from '../../support/fakes';

const card = (grantId: string): Job => ({ kind: 'post-request-card', grantId });
const changed = (grantId: string, step: number): Job => ({ kind: 'grant-changed', grantId, step });

/** Lets every queued setImmediate and promise continuation run (real timers). */
async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

function recordingLogger() {
  const lines: { level: string; msg: string; fields: Record<string, unknown> }[] = [];
  const at =
    (level: string) =>
    (fields: Record<string, unknown>, msg: string): void => {
      lines.push({ level, msg, fields });
    };
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { logger, lines };
}

/** A promise the test settles by hand. */
function deferred() {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('InProcessQueue: running jobs', () => {
  it('runs every enqueued job, including those enqueued before start', async () => {
    const queue = new InProcessQueue({ logger: silentLogger });
    const ran: Job[] = [];
    await queue.enqueue(card('a'));
    queue.start(async (job) => {
      ran.push(job);
    });
    await queue.enqueue(card('b'));
    await queue.enqueue(changed('b', 1));

    await queue.idle();

    expect(ran).toEqual([card('a'), card('b'), changed('b', 1)]);
    expect(queue.deadLetters).toEqual([]);
    queue.stop();
  });

  it('resolves idle() at once when nothing was ever queued', async () => {
    const queue = new InProcessQueue({ logger: silentLogger });
    queue.start(async () => {});
    await expect(queue.idle()).resolves.toBeUndefined();
  });

  it('resolves idle() only after the follow-up jobs that handlers enqueue have finished', async () => {
    const queue = new InProcessQueue({ logger: silentLogger });
    const finished: string[] = [];
    queue.start(async (job) => {
      await settle(2);
      if (job.kind === 'post-request-card') {
        await queue.enqueue(changed(job.grantId, 0));
        await settle(2);
      } else if (job.kind === 'grant-changed' && job.step < 3) {
        await queue.enqueue(changed(job.grantId, job.step + 1));
      }
      finished.push(job.kind === 'grant-changed' ? `changed:${job.step}` : job.kind);
    });
    await queue.enqueue(card('g1'));

    let idle = false;
    const waiting = queue.idle().then(() => {
      idle = true;
    });
    await settle(3);
    expect(idle).toBe(false);
    await waiting;

    expect(finished).toEqual(['post-request-card', 'changed:0', 'changed:1', 'changed:2', 'changed:3']);
    queue.stop();
  });

  it('carries a request through the real worker: card, then approval, apply and announcements', async () => {
    const config = testConfig();
    const clock = new ManualClock(new Date('2026-11-23T10:00:00Z'));
    const account = new SimulatedAccount({
      accountId: config.aws.accountId,
      region: config.aws.region,
      nodes: config.sandbox.fleet,
      clock,
    });
    const queue = new InProcessQueue({ logger: silentLogger, retryDelayMs: 1 });
    const grants = new MemoryGrantStore();
    const chat = new RecordingChat({ S0SREGROUP: ['U0DAVE'] });
    const deps: Deps = {
      config,
      grants,
      queue,
      aws: onePlace({ access: account, fleet: account }),
      chat,
      clock,
      logger: silentLogger,
      newId: () => 'g1',
      ...sessionFakes(grants),
      ...runFakes({ config, clock }),
    };
    queue.start((job) => handleJob(deps, job));

    await requestAccess(deps, { user: 'U0ALICE', text: 'prod-raspi 1h replace sensor' });
    await queue.idle();
    expect(chat.cards).toHaveLength(1);
    expect((await grants.get('g1'))?.card).toEqual(chat.cards[0]?.ref);

    await decideOnGrant(deps, { grantId: 'g1', clicker: 'U0CAROL', action: 'approve' });
    await queue.idle();

    expect((await grants.get('g1'))?.status).toBe('active');
    expect(chat.notices.map((n) => [n.user, n.notice.kind])).toEqual([
      ['U0ALICE', 'approved'],
      ['U0ALICE', 'ready'],
    ]);
    expect(chat.cardUpdates.at(-1)?.view.grant.status).toBe('active');
    expect(queue.deadLetters).toEqual([]);
    queue.stop();
  });
});

describe('InProcessQueue: failures', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  it('retries a failing job with doubling delays, then keeps it as a dead letter', async () => {
    jest.useFakeTimers();
    const { logger, lines } = recordingLogger();
    const queue = new InProcessQueue({ logger, maxAttempts: 4, retryDelayMs: 10 });
    const attempts: number[] = [];
    queue.start(async () => {
      attempts.push(Date.now());
      throw new Error('Slack said no');
    });
    let idle = false;
    await queue.enqueue(card('g1'));
    void queue.idle().then(() => {
      idle = true;
    });

    await jest.advanceTimersByTimeAsync(0);
    expect(attempts).toHaveLength(1);
    for (const [i, delay] of [10, 20, 40].entries()) {
      await jest.advanceTimersByTimeAsync(delay - 1);
      expect(attempts).toHaveLength(i + 1);
      expect(idle).toBe(false);
      await jest.advanceTimersByTimeAsync(1);
      expect(attempts).toHaveLength(i + 2);
    }

    expect(attempts).toHaveLength(4);
    const gaps = attempts.slice(1).map((t, i) => t - attempts[i]!);
    expect(gaps).toEqual([10, 20, 40]);
    expect(queue.deadLetters).toEqual([{ job: card('g1'), error: 'Slack said no' }]);
    expect(lines.map((l) => l.level)).toEqual(['warn', 'warn', 'warn', 'error']);
    expect(idle).toBe(true);
    await jest.advanceTimersByTimeAsync(10_000);
    expect(attempts).toHaveLength(4);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('does not bury a job that succeeds on a retry', async () => {
    const queue = new InProcessQueue({ logger: silentLogger, maxAttempts: 3, retryDelayMs: 1 });
    let calls = 0;
    queue.start(async () => {
      calls++;
      if (calls < 3) throw new Error('throttled');
    });
    await queue.enqueue(card('g1'));

    await queue.idle();

    expect(calls).toBe(3);
    expect(queue.deadLetters).toEqual([]);
    queue.stop();
  });

  it('keeps running other jobs while one waits for its retry', async () => {
    const queue = new InProcessQueue({ logger: silentLogger, maxAttempts: 2, retryDelayMs: 5 });
    const ran: string[] = [];
    queue.start(async (job) => {
      const id = 'grantId' in job ? job.grantId : 'runId' in job ? job.runId : job.user;
      ran.push(id);
      if (id === 'bad') throw new Error('no');
    });
    await queue.enqueue(card('bad'));
    await queue.enqueue(card('good'));

    await queue.idle();

    expect(ran).toEqual(['bad', 'good', 'bad']);
    expect(queue.deadLetters.map((d) => d.job)).toEqual([card('bad')]);
    queue.stop();
  });

  it('stop() cancels scheduled retries', async () => {
    jest.useFakeTimers();
    const queue = new InProcessQueue({ logger: silentLogger, maxAttempts: 5, retryDelayMs: 100 });
    let calls = 0;
    queue.start(async () => {
      calls++;
      throw new Error('down');
    });
    await queue.enqueue(card('g1'));
    await jest.advanceTimersByTimeAsync(0);
    expect(calls).toBe(1);
    expect(jest.getTimerCount()).toBe(1);

    queue.stop();

    expect(jest.getTimerCount()).toBe(0);
    await jest.advanceTimersByTimeAsync(10_000);
    expect(calls).toBe(1);
  });
});

describe('InProcessQueue: concurrency', () => {
  it.each([
    ['concurrency: 3', 3, 3],
    ['the default', undefined, 4],
  ])('never runs more jobs at once than allowed (%s), and uses all of it', async (_, concurrency, limit) => {
    const queue = new InProcessQueue({ logger: silentLogger, ...(concurrency ? { concurrency } : {}) });
    const gates: ReturnType<typeof deferred>[] = [];
    let running = 0;
    let most = 0;
    let done = 0;
    queue.start(async () => {
      running++;
      most = Math.max(most, running);
      const gate = deferred();
      gates.push(gate);
      await gate.promise;
      running--;
      done++;
    });
    for (let i = 0; i < 10; i++) await queue.enqueue(card(`g${i}`));

    await settle();
    expect(running).toBe(limit);
    while (done < 10) {
      const open = gates.splice(0);
      expect(open.length).toBeLessThanOrEqual(limit);
      for (const gate of open) gate.resolve();
      await settle();
    }
    await queue.idle();

    expect(most).toBe(limit);
    expect(done).toBe(10);
    queue.stop();
  });
});

describe('InProcessQueue.close', () => {
  it('waits for running jobs and the follow-ups they enqueue, then stops', async () => {
    const done: string[] = [];
    const queue = new InProcessQueue({ logger: silentLogger });
    queue.start(async (job) => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      done.push(job.kind);
      if (job.kind === 'apply-grant')
        await queue.enqueue({ kind: 'grant-changed', grantId: job.grantId, step: 2 });
    });
    await queue.enqueue({ kind: 'apply-grant', grantId: 'g1' });
    await queue.close();
    expect(done).toEqual(['apply-grant', 'grant-changed']);
  });

  it('gives up waiting after its timeout, so a stuck job cannot hold shutdown', async () => {
    const queue = new InProcessQueue({ logger: silentLogger });
    queue.start(() => new Promise<void>(() => {}));
    await queue.enqueue({ kind: 'apply-grant', grantId: 'g1' });
    const started = Date.now();
    await queue.close(50);
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
