import { digestCronPattern, startDigestSchedule } from '../../../src/main/digest-schedule';
import { silentLogger, testConfig } from '../../support/fakes';

function schedule(at: string, timezone: string, run: () => Promise<unknown> = async () => {}) {
  const config = { ...testConfig(), digest: { at, timezone } };
  const logged: string[] = [];
  const logger = { ...silentLogger, error: (_: Record<string, unknown>, msg: string) => logged.push(msg) };
  // Only config and logger are read when `run` is given.
  const deps = { config, logger } as unknown as Parameters<typeof startDigestSchedule>[0];
  return { job: startDigestSchedule(deps, run), logged };
}

describe('the local digest schedule', () => {
  it('turns digest.at into a daily cron pattern', () => {
    expect(digestCronPattern('09:00')).toBe('0 9 * * *');
    expect(digestCronPattern('23:45')).toBe('45 23 * * *');
  });

  it('runs at digest.at in digest.timezone: 09:00 Tokyo is 00:00 UTC', async () => {
    const { job } = schedule('09:00', 'Asia/Tokyo');
    expect(job.nextRun(new Date('2026-11-23T01:00:00Z'))?.toISOString()).toBe('2026-11-24T00:00:00.000Z');
    await job.stop();
  });

  it('keeps local time across New York’s daylight-saving changes', async () => {
    const { job } = schedule('09:00', 'America/New_York');
    // 09:00 EST is 14:00 UTC; after the spring change 09:00 EDT is 13:00 UTC.
    expect(job.nextRun(new Date('2026-03-07T15:00:00Z'))?.toISOString()).toBe('2026-03-08T13:00:00.000Z');
    expect(job.nextRun(new Date('2026-10-31T14:00:00Z'))?.toISOString()).toBe('2026-11-01T14:00:00.000Z');
    await job.stop();
  });

  it('a run that fails is logged, not thrown; stop waits for a run in progress', async () => {
    let finished = false;
    const { job, logged } = schedule('09:00', 'UTC', async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      finished = true;
      throw new Error('Slack is down');
    });
    const run = job.trigger();
    await job.stop();
    expect(finished).toBe(true);
    await run;
    expect(logged).toEqual(['digest failed']);
    expect(job.nextRun()).toBeNull();
  });
});
