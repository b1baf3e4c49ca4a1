import type { Job } from '../ports/work-queue';
import { announceChange } from './announce';
import { applyGrant } from './apply-grant';
import type { Deps } from './deps';
import { applyExtension, postExtensionCard } from './extend-grant';
import { postRequestCard } from './post-request-card';
import { publishHome } from './publish-home';
import { revokeGrant } from './revoke-grant';
import { startRun } from './start-run';
import { trackRun } from './track-run';

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
    case 'revoke-grant':
      await revokeGrant(deps, job.grantId);
      return;
    case 'post-extension-card':
      return postExtensionCard(deps, job.grantId);
    case 'apply-extension':
      await applyExtension(deps, job.grantId);
      return;
    case 'start-run':
      await startRun(deps, job.runId);
      return;
    case 'track-run':
      await trackRun(deps, job.runId);
      return;
    case 'publish-home':
      return publishHome(deps, job.user);
  }
}
