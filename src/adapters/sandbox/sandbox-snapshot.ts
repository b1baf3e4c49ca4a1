import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../../ports/logger';
import type { FakeSlackState } from './fake-slack-api';
import type { SimulatedAccountState } from './simulated-account';

/**
 * What the sandbox keeps besides the grants (those live in dynalite's own files next to it): the
 * Slack messages, the simulated accounts' policies and sessions, and how far the clock was moved.
 * Saved together so that a restarted sandbox shows cards whose grants and policies still exist.
 */
export interface SandboxSnapshot {
  version: 1;
  clockOffsetMs: number;
  slack: FakeSlackState;
  /** Keyturn's own (home) account's IAM and sessions. */
  account: SimulatedAccountState;
  /** Each member account's, by account id; absent in snapshots saved before the sandbox had member accounts. */
  members?: Record<string, SimulatedAccountState>;
}

/** The snapshot in `file`, or undefined when there is none or it cannot be read (then the sandbox starts clean). */
export function readSnapshot(file: string, logger: Logger): SandboxSnapshot | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
      logger.warn({ file, err: (error as Error).message }, 'sandbox state unreadable; starting clean');
    return undefined;
  }
  try {
    const parsed = JSON.parse(text) as Partial<SandboxSnapshot>;
    if (parsed.version === 1 && parsed.slack && parsed.account) return parsed as SandboxSnapshot;
  } catch {
    // Falls through to the warning: a file cut short by a crash is not worth stopping for.
  }
  logger.warn({ file }, 'sandbox state is not a snapshot this version understands; starting clean');
  return undefined;
}

/** Writes to a temporary file first, so a crash mid-write leaves the previous snapshot whole. */
export function writeSnapshot(file: string, snapshot: SandboxSnapshot): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  // It holds grants' reasons and command output: its owner's alone, whatever the umask.
  writeFileSync(tmp, JSON.stringify(snapshot), { mode: 0o600 });
  renameSync(tmp, file);
}

/**
 * Saves the snapshot whenever it changed: on `save()` (after each page action), every `everyMs` (the
 * bot's own work: worker jobs, sweeps) and once more on `stop()`.
 */
export function keepSnapshots(opts: {
  file: string;
  take: () => SandboxSnapshot;
  logger: Logger;
  everyMs?: number;
}): { save(): void; stop(): void } {
  let last = '';
  const save = () => {
    try {
      const snapshot = opts.take();
      const text = JSON.stringify(snapshot);
      if (text === last) return;
      writeSnapshot(opts.file, snapshot);
      last = text;
    } catch (error) {
      opts.logger.warn({ file: opts.file, err: (error as Error).message }, 'could not save sandbox state');
    }
  };
  const timer = setInterval(save, opts.everyMs ?? 2_000);
  timer.unref();
  return {
    save,
    stop: () => {
      clearInterval(timer);
      save();
    },
  };
}
