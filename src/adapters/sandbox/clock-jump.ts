import type { SandboxClock } from './sandbox-clock';

/** Stops inside one jump; past it the jump goes straight to its end (a week of due times is far fewer). */
const MAX_CLOCK_STEPS = 200;

export interface ClockJump {
  /** The next moment after `after` at which a schedule has work; the jump stops there on its way. */
  nextDue?(after: Date): Promise<Date | undefined>;
  /** Runs after each step of the jump, from `from` to `to`: the sweep and anything else now due. */
  afterClockMove(moved: { from: Date; to: Date }): Promise<void>;
}

/**
 * Moves the sandbox clock `ms` ahead, stepping through every moment something falls due inside the
 * jump (an expiry, a warning, the digest), so each happens at its time, as the schedules would have
 * run it, not at the end of the jump.
 */
export async function jumpClock(clock: SandboxClock, ms: number, jump: ClockJump): Promise<void> {
  // Counted in offset, not wall time: real time passes while the steps run, the jump is still `ms`.
  const targetOffset = clock.offsetMs + ms;
  for (let step = 0; step < MAX_CLOCK_STEPS; step++) {
    const from = clock.now();
    const remaining = targetOffset - clock.offsetMs;
    const dueIn = ((await jump.nextDue?.(from))?.getTime() ?? Number.POSITIVE_INFINITY) - from.getTime();
    const last = dueIn >= remaining || step === MAX_CLOCK_STEPS - 1;
    clock.advance(last ? remaining : Math.max(0, dueIn));
    await jump.afterClockMove({ from, to: clock.now() });
    if (last) break;
  }
}
