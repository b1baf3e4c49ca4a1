import type { CommandRun } from '../domain/command-run';
import type { CommandRunStore } from '../ports/command-run-store';

/**
 * Saves a change to a run with a conditional write, re-reading and re-applying it after a lost race.
 * `change` returns undefined when there is nothing (left) to do; the version is bumped here. Returns
 * the run as stored afterwards (undefined only if it does not exist).
 */
export async function updateRun(
  runs: CommandRunStore,
  runId: string,
  change: (run: CommandRun) => CommandRun | undefined,
): Promise<CommandRun | undefined> {
  for (let race = 0; race < 10; race++) {
    const current = await runs.get(runId);
    if (!current) return undefined;
    const changed = change(current);
    if (!changed) return current;
    const next = { ...changed, version: current.version + 1 };
    if ((await runs.save(next, current.version)) === 'saved') return next;
  }
  throw new Error(`run ${runId} kept changing under 10 attempts to update it`);
}
