import type { CommandRun } from '../domain/command-run';
import type { CommandRunStore } from '../ports/command-run-store';
import { updateVersioned } from './decide-and-save';

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
  const updated = await updateVersioned(runs, runId, change, 'run');
  if (updated.outcome === 'saved') return updated.saved;
  return updated.outcome === 'unchanged' ? updated.current : undefined;
}
