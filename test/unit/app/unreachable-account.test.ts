import { handleJob } from '../../../src/app/handle-job';
import { requestAccess } from '../../../src/app/request-access';
import { decideOnGrant } from '../../../src/app/decide';
import type { Job } from '../../../src/ports/work-queue';
import { notices, stored } from '../../support/grant-scenarios';
import { FACTORY, type Organisation, organisation } from '../../support/places';

/*
 * What people hear while a member account cannot be reached (its grantor role cannot be assumed): the
 * messages that only show that account's nodes go out without them, rather than not at all.
 */

/** Runs every queued job once, as the queue would, keeping the errors a failing job throws (it is retried). */
async function runJobs(o: Organisation): Promise<unknown[]> {
  const errors: unknown[] = [];
  for (let ran = 0; o.queue.jobs.length > 0; ran++) {
    if (ran > 100) throw new Error('the queue never emptied');
    await handleJob(o.deps, o.queue.jobs.shift() as Job).catch((e: unknown) => errors.push(e));
  }
  return errors;
}

describe('a member account Keyturn cannot reach', () => {
  it('still gets a request its approval card, without nodes', async () => {
    const o = organisation();
    o.reach(FACTORY.accountId, 'unreachable');

    const requested = await requestAccess(o.deps, { user: 'U0ALICE', text: 'factory-raspi 1h recalibrate' });
    expect(requested.outcome).toBe('requested');
    expect(await runJobs(o)).toEqual([]);

    expect(o.chat.cards).toHaveLength(1);
    expect(o.chat.cards[0]?.view).toMatchObject({ target: { name: 'factory-raspi' }, nodes: [] });
  });

  it('tells the requester their grant failed, though its clean-up there is retried', async () => {
    const o = organisation();
    const requested = await requestAccess(o.deps, { user: 'U0ALICE', text: 'factory-raspi 1h recalibrate' });
    if (requested.outcome !== 'requested') throw new Error(requested.outcome);
    await runJobs(o);
    o.reach(FACTORY.accountId, 'unreachable');

    await decideOnGrant(o.deps, { grantId: requested.grant.id, clicker: 'U0CAROL', action: 'approve' });
    const errors = await runJobs(o);

    expect((await stored(o, requested.grant.id)).status).toBe('failed');
    // The apply job's clean-up could not reach the account: it fails, to be retried by the queue.
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.every((e) => (e as { code?: string }).code === 'AccountUnreachable')).toBe(true);
    const failed = notices(o, 'failed', requested.grant.id);
    expect(failed).toHaveLength(1);
    expect(failed[0]?.grant.failureReason).toMatch(
      /Keyturn could not assume arn:aws:iam::444455556666:role\/keyturn-grantor/,
    );
  });
});
