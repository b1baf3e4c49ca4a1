import {
  answer,
  decideAndSave,
  keptChanging,
  saveThen,
  updateVersioned,
  type VersionedStore,
} from '../../../src/app/decide-and-save';

interface Rec {
  id: string;
  version: number;
  value: string;
}

/** A store whose first `staleSaves` saves lose the race to a concurrent writer (who bumps the version). */
function racingStore(initial: Rec | undefined, staleSaves = 0) {
  let stored = initial;
  let losses = staleSaves;
  const calls = { get: 0, save: 0 };
  const store: VersionedStore<Rec> = {
    async get() {
      calls.get++;
      return stored && { ...stored };
    },
    async save(next, expected) {
      calls.save++;
      if (losses > 0 && stored) {
        losses--;
        stored = { ...stored, version: stored.version + 1, value: `${stored.value}+other` };
        return 'stale';
      }
      if ((stored?.version ?? 0) !== expected) return 'stale';
      stored = next;
      return 'saved';
    },
  };
  return { store, calls, stored: () => stored };
}

const bump = (r: Rec, value: string): Rec => ({ ...r, value, version: r.version + 1 });

describe('decideAndSave', () => {
  it('decides again on the fresh record after a lost race, and runs `after` once, for the winning write', async () => {
    const { store, calls, stored } = racingStore({ id: 'a', version: 1, value: 'x' }, 1);
    const seen: string[] = [];
    const after = jest.fn((saved: Rec) => saved.value);
    const result = await decideAndSave(
      store,
      'a',
      (current) => {
        if (!current) return answer('missing');
        seen.push(current.value);
        return saveThen(bump(current, `${current.value}!`), after);
      },
      { attempts: 5, exhausted: keptChanging('rec', 'a', 5, 'decide') },
    );
    expect(seen).toEqual(['x', 'x+other']);
    expect(result).toBe('x+other!');
    expect(after).toHaveBeenCalledTimes(1);
    expect(stored()?.value).toBe('x+other!');
    expect(calls).toEqual({ get: 2, save: 2 });
  });

  it('an answer writes nothing', async () => {
    const { store, calls } = racingStore({ id: 'a', version: 1, value: 'x' });
    const result = await decideAndSave(store, 'a', () => answer('refused'), {
      attempts: 5,
      exhausted: () => 'gave up',
    });
    expect(result).toBe('refused');
    expect(calls.save).toBe(0);
  });

  it('decides first on the record already in hand, without reading it again', async () => {
    const { store, calls } = racingStore({ id: 'a', version: 1, value: 'x' });
    const result = await decideAndSave(
      store,
      'a',
      (current) => saveThen(bump(current as Rec, 'y'), (s) => s.value),
      {
        attempts: 5,
        exhausted: () => 'gave up',
        current: { id: 'a', version: 1, value: 'x' },
      },
    );
    expect(result).toBe('y');
    expect(calls.get).toBe(0);
  });

  it('ends in `exhausted` when every attempt loses its race, and its throw says what kept changing', async () => {
    const { store } = racingStore({ id: 'a', version: 1, value: 'x' }, 99);
    const run = decideAndSave(store, 'a', (current) => saveThen(bump(current as Rec, 'y'), () => 'won'), {
      attempts: 3,
      exhausted: keptChanging('grant', 'a', 3, 'decide'),
    });
    await expect(run).rejects.toThrow('grant a kept changing under 3 attempts to decide');
  });

  it('creates a record that did not exist over version 0', async () => {
    const { store, stored } = racingStore(undefined);
    const result = await decideAndSave(
      store,
      'n',
      (current) =>
        current ? answer('exists') : saveThen({ id: 'n', version: 1, value: 'new' }, () => 'created'),
      { attempts: 2, exhausted: () => 'gave up' },
    );
    expect(result).toBe('created');
    expect(stored()).toEqual({ id: 'n', version: 1, value: 'new' });
  });
});

describe('updateVersioned', () => {
  it('bumps the version itself and re-applies the change after a lost race', async () => {
    const { store, stored } = racingStore({ id: 'a', version: 1, value: 'x' }, 1);
    const updated = await updateVersioned(store, 'a', (r) => ({ ...r, value: `${r.value}:card` }), 'rec');
    expect(updated).toEqual({ outcome: 'saved', saved: { id: 'a', version: 3, value: 'x+other:card' } });
    expect(stored()?.version).toBe(3);
  });

  it('reports a missing record, and nothing to do, without writing', async () => {
    expect(await updateVersioned(racingStore(undefined).store, 'a', (r) => r, 'rec')).toEqual({
      outcome: 'missing',
    });
    const { store, calls } = racingStore({ id: 'a', version: 1, value: 'x' });
    expect(await updateVersioned(store, 'a', () => undefined, 'rec')).toEqual({
      outcome: 'unchanged',
      current: { id: 'a', version: 1, value: 'x' },
    });
    expect(calls.save).toBe(0);
  });
});
