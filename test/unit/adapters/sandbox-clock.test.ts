import { SandboxClock } from '../../../src/adapters/sandbox/sandbox-clock';

describe('SandboxClock', () => {
  let real = Date.parse('2026-11-23T10:00:00Z');
  const clock = () => new SandboxClock({ realNow: () => real });

  it('is real time until it is moved', () => {
    const c = clock();
    expect(c.now().toISOString()).toBe('2026-11-23T10:00:00.000Z');
    real += 1_000;
    expect(c.now().toISOString()).toBe('2026-11-23T10:00:01.000Z');
    expect(c.offsetMs).toBe(0);
  });

  it('moves ahead by the sum of every advance and keeps following real time', () => {
    real = Date.parse('2026-11-23T10:00:00Z');
    const c = clock();
    c.advance(10 * 60_000);
    c.advance(60 * 60_000);
    expect(c.offsetMs).toBe(70 * 60_000);
    expect(c.now().toISOString()).toBe('2026-11-23T11:10:00.000Z');
    real += 5_000;
    expect(c.now().toISOString()).toBe('2026-11-23T11:10:05.000Z');
  });

  it('never goes back: grants, sessions and messages assume time only moves on', () => {
    const c = clock();
    expect(() => c.advance(-1)).toThrow(RangeError);
    expect(() => c.advance(Number.NaN)).toThrow(RangeError);
    expect(c.offsetMs).toBe(0);
  });

  it('starts where a saved sandbox left off, and reset returns to real time', () => {
    real = Date.parse('2026-11-23T10:00:00Z');
    const c = new SandboxClock({ offsetMs: 3_600_000, realNow: () => real });
    expect(c.now().toISOString()).toBe('2026-11-23T11:00:00.000Z');
    c.reset();
    expect(c.now().toISOString()).toBe('2026-11-23T10:00:00.000Z');
  });

  it('sleeps in real time: the offset is the bot’s view of the world, not a timer', async () => {
    const c = new SandboxClock();
    c.advance(3_600_000);
    const started = Date.now();
    await c.sleep(20);
    const slept = Date.now() - started;
    expect(slept).toBeGreaterThanOrEqual(15);
    expect(slept).toBeLessThan(1_000);
  });
});
