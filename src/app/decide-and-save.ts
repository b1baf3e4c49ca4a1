/** A store whose records carry a version and are written only if the stored version is still the one read. */
export interface VersionedStore<T extends { version: number }> {
  get(id: string): Promise<T | undefined>;
  save(next: T, expectedVersion: number): Promise<'saved' | 'stale'>;
}

/** What to do with the record as read: answer without writing, or write it and then act on what was written. */
export type SaveStep<T, R> =
  | { answer: R }
  | {
      save: T;
      /** Runs once, after this step's write won: announcements and follow-up jobs go here, never before. */
      after: (saved: T) => R | Promise<R>;
    };

/** Answer without writing anything. */
export function answer<R>(value: R): { answer: R } {
  return { answer: value };
}

/** Write `record` conditionally; `after` runs only if the write wins. */
export function saveThen<T, R>(record: T, after: (saved: T) => R | Promise<R>): SaveStep<T, R> {
  return { save: record, after };
}

/**
 * Read → decide → conditional save, again on the fresh record when the save lost a race. Every state
 * change is decided on the version it is written over, so two concurrent clicks (or workers) can never
 * both win: the loser re-reads and decides again, which usually refuses ("not pending any more").
 */
export async function decideAndSave<T extends { version: number }, R>(
  store: VersionedStore<T>,
  id: string,
  decide: (current: T | undefined) => SaveStep<T, R> | Promise<SaveStep<T, R>>,
  opts: {
    attempts: number;
    /** What every lost race ends in: an answer, or a throw for what should never keep racing. */
    exhausted: () => R;
    /** The record already in hand, decided on first instead of reading it again. */
    current?: T;
  },
): Promise<R> {
  let known = opts.current;
  for (let race = 0; race < opts.attempts; race++) {
    const current = known ?? (await store.get(id));
    known = undefined;
    const step = await decide(current);
    if ('answer' in step) return step.answer;
    // The record's version is the one decided on: a save over anything newer is stale. A record that
    // did not exist is created over version 0, so two creators cannot both win either.
    if ((await store.save(step.save, current?.version ?? 0)) === 'saved') return step.after(step.save);
  }
  return opts.exhausted();
}

/** Gives up after `attempts` lost races: something keeps changing the record, which a retry will not fix. */
export function keptChanging(what: string, id: string, attempts: number, doing: string): () => never {
  return () => {
    throw new Error(`${what} ${id} kept changing under ${attempts} attempts to ${doing}`);
  };
}

/** How an update ended: the record was missing, there was nothing (left) to change, or the change was saved. */
export type Updated<T> =
  | { outcome: 'missing' }
  | { outcome: 'unchanged'; current: T }
  | { outcome: 'saved'; saved: T };

/**
 * Saves a change that is not a decision (a card reference, a lease, a poll's progress), bumping the
 * version, and re-applies it to the fresh record after a lost race. `change` returns undefined when
 * there is nothing (left) to do.
 */
export function updateVersioned<T extends { version: number }>(
  store: VersionedStore<T>,
  id: string,
  change: (current: T) => T | undefined,
  what: string,
): Promise<Updated<T>> {
  return decideAndSave(
    store,
    id,
    (current): SaveStep<T, Updated<T>> => {
      if (!current) return answer({ outcome: 'missing' });
      const changed = change(current);
      if (!changed) return answer({ outcome: 'unchanged', current });
      return saveThen({ ...changed, version: current.version + 1 }, (saved) => ({ outcome: 'saved', saved }));
    },
    { attempts: 10, exhausted: keptChanging(what, id, 10, 'update it') },
  );
}
