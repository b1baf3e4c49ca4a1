import { grantAuditLine, runAuditLine } from '../domain/audit-line';
import type { CommandRun } from '../domain/command-run';
import type { Grant } from '../domain/grant';
import type { Deps } from './deps';

type AuditDeps = Pick<Deps, 'config' | 'chat' | 'clock' | 'logger'>;

/**
 * Posts the audit line for a grant's recorded move (its history entry `step`) to the audit channel.
 * Called by the code path that already won the move's conditional write; the line is claimed per step
 * first, so a redelivered job or a second announcement never posts it twice. A failure to post is
 * logged and swallowed: the move is done, and the trail must not fail or repeat it.
 */
export async function auditGrantStep(
  deps: AuditDeps & Pick<Deps, 'grants'>,
  grant: Grant,
  step: number,
): Promise<void> {
  if (deps.config.slack.auditEvents !== 'all') return;
  const line = grantAuditLine(grant, step);
  if (!line) return;
  try {
    if (!(await deps.grants.claimEffect(grant.id, `audit:${step}`, deps.clock.now().toISOString()))) return;
    await deps.chat.postAuditLine(deps.config.slack.auditChannel, line);
  } catch (error) {
    deps.logger.warn({ grantId: grant.id, step, err: errorText(error) }, 'audit line not posted');
  }
}

/** Posts the audit line for where a run stands (sent, finished, failed, denied), once per status. */
export async function auditRun(deps: AuditDeps & Pick<Deps, 'runs'>, run: CommandRun): Promise<void> {
  if (deps.config.slack.auditEvents !== 'all') return;
  const line = runAuditLine(run);
  if (!line) return;
  try {
    if (!(await deps.runs.claimEffect(run.id, `audit:${run.status}`, deps.clock.now().toISOString()))) return;
    await deps.chat.postAuditLine(deps.config.slack.auditChannel, line);
  } catch (error) {
    deps.logger.warn({ runId: run.id, status: run.status, err: errorText(error) }, 'audit line not posted');
  }
}

/** ChatError messages name the method and Slack's error code, never the token (src/adapters/slack/slack-chat.ts). */
function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
