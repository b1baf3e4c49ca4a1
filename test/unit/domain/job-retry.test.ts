import { JOB_RETRY_DELAYS_SECONDS, jobRetryDelaySeconds } from '../../../src/domain/job-retry';

describe('jobRetryDelaySeconds (how long a failed job waits before SQS delivers it again)', () => {
  it.each([
    [1, 5],
    [2, 20],
    [3, 60],
    [4, 120],
    [5, 300],
    [6, 600],
    [7, 900],
  ])('after delivery %i it waits %i s', (receiveCount, seconds) => {
    expect(jobRetryDelaySeconds(receiveCount)).toBe(seconds);
  });

  it('is capped at 15 minutes, well under the queue visibility timeout it replaces (1,800 s)', () => {
    for (const count of [8, 9, 50, 10_000]) expect(jobRetryDelaySeconds(count)).toBe(900);
  });

  it('grows with every delivery and never exceeds the cap', () => {
    for (let n = 1; n < JOB_RETRY_DELAYS_SECONDS.length; n++) {
      expect(jobRetryDelaySeconds(n + 1)).toBeGreaterThan(jobRetryDelaySeconds(n));
    }
  });

  it.each([0, -1, Number.NaN, 1.5, Number.POSITIVE_INFINITY])(
    'takes an unreadable receive count (%p) as a first delivery',
    (count) => {
      expect(jobRetryDelaySeconds(count)).toBe(5);
    },
  );
});
