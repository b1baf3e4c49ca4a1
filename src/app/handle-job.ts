import type { Job } from '../ports/work-queue';
import { announceChange } from './announce';
import { applyGrant } from './apply-grant';
import type { Deps } from './deps';
import { postRequestCard } from './post-request-card';

/** The worker: one entry point for every queued job, whether it came from SQS or the in-process queue. */
export async function handleJob(deps: Deps, job: Job): Promise<void> {
  switch (job.kind) {
    case 'post-request-card':
      return postRequestCard(deps, job.grantId);
    case 'apply-grant':
      await applyGrant(deps, job.grantId);
      return;
    case 'grant-changed':
      return announceChange(deps, job);
  }
}
