import { plural } from './block-kit';
import type { Grant } from '../../domain/grant';
import { accountLabel } from '../../domain/place';
import type { AuditEvent } from '../../ports/chat';
import {
  code,
  escapeMrkdwn,
  MAX_ERROR_TEXT,
  MAX_SECTION_TEXT,
  mention,
  redactSecrets,
  type SlackMessage,
  section,
  slackDate,
  truncate,
} from './block-kit';

/** Session ids and principals named in an audit message; the rest are counted, so 500 still fit one section. */
export const AUDIT_LIST_CAP = 20;
/** IAM ARNs are at most 2,048 characters. */
const MAX_ARN = 2048;

/**
 * Appends up to AUDIT_LIST_CAP items as bullet lines to `head`, then "…and N more", all within one
 * section's 3,000 characters: a cut list still says how much it left out, which truncation would not.
 */
function withList(head: readonly string[], items: readonly string[]): string {
  const more = (n: number) => `…and ${n} more`;
  const budget = MAX_SECTION_TEXT - head.join('\n').length - more(items.length).length - 1;
  const lines = [...head];
  let used = 0;
  for (const item of items) {
    const line = `• ${item}`;
    if (lines.length - head.length === AUDIT_LIST_CAP || used + line.length + 1 > budget) break;
    lines.push(line);
    used += line.length + 1;
  }
  const shown = lines.length - head.length;
  if (shown < items.length) lines.push(more(items.length - shown));
  return lines.join('\n');
}

function grantLabel(grant: Grant): string {
  return `grant ${escapeMrkdwn(grant.id)} (${mention(grant.requester)} on ${escapeMrkdwn(grant.target)})`;
}

const PRINCIPAL_WORDS = { user: 'IAM user', role: 'IAM role', group: 'IAM group' } as const;

/** Messages for the audit channel: each names what happened, to whom, and what a human should check. */
export function auditMessage(event: AuditEvent): SlackMessage {
  switch (event.kind) {
    case 'orphan-policy-removed': {
      const text = `Keyturn removed orphan policy ${escapeMrkdwn(event.policyArn)}: no grant explains it.`;
      const lines = [
        `*Removed an orphan Keyturn policy* ${code(event.policyArn, MAX_ARN)}: no grant explains it.`,
      ];
      if (event.grantId !== undefined)
        lines.push(`It is named for grant ${escapeMrkdwn(event.grantId)}, which is not active.`);
      if (event.detachedFrom.length === 0) {
        lines.push('It was not attached to anyone.');
        return { text, blocks: [section(lines.join('\n'))] };
      }
      lines.push('*Detached from:*');
      const principals = event.detachedFrom.map((p) => `${PRINCIPAL_WORDS[p.kind]} ${code(p.name)}`);
      return { text, blocks: [section(withList(lines, principals))] };
    }
    case 'sessions-not-ended': {
      const { grant, sessionIds } = event;
      const count = plural(sessionIds.length, 'session', 'sessions');
      const text = `${count} of grant ${escapeMrkdwn(grant.id)} may still be open after the grant ended.`;
      // TerminateSession answers success even for sessions it did not end (FACTS.md "Session Manager").
      const head = [
        `*${count} may still be open:* ${grantLabel(grant)} ended, but Keyturn could not confirm ${sessionIds.length === 1 ? 'it was' : 'they were'} terminated.`,
        'Check them and end them by hand with `aws ssm terminate-session --session-id &lt;id&gt;`:',
      ];
      return {
        text,
        blocks: [
          section(
            withList(
              head,
              sessionIds.map((id) => code(id)),
            ),
          ),
        ],
      };
    }
    case 'policy-missing': {
      const { grant } = event;
      const text = `The policy of active grant ${escapeMrkdwn(grant.id)} is missing; the grant was marked failed.`;
      const policy =
        grant.policyArn === undefined ? 'its IAM policy' : `its IAM policy ${code(grant.policyArn, MAX_ARN)}`;
      return {
        text,
        blocks: [
          section(
            `*Policy missing:* ${grantLabel(grant)} was active, but ${policy} is gone: something outside Keyturn deleted or detached it. The grant was marked failed.`,
          ),
        ],
      };
    }
    case 'revoke-failed': {
      const { grant } = event;
      const text = `Revoking grant ${escapeMrkdwn(grant.id)} failed.`;
      const error = truncate(escapeMrkdwn(redactSecrets(event.error)), MAX_ERROR_TEXT);
      // The end time is a condition inside the policy, but an open session outlives the policy (DESIGN.md "The grant policy").
      const stop =
        grant.expiresAt === undefined
          ? ''
          : ` New sessions stop at the policy's own end time, ${slackDate(grant.expiresAt)}, but open ones outlive it.`;
      return {
        text,
        blocks: [
          section(
            `*Revoking ${grantLabel(grant)} failed:* ${error}\nAccess may remain until a revoke succeeds.${stop}`,
          ),
        ],
      };
    }
    case 'accounts-unreachable': {
      const count = event.accounts.reduce((n, a) => n + a.grants.length, 0);
      const names = event.accounts.map((a) => escapeMrkdwn(accountLabel(a)));
      const text = `Keyturn could not reach ${names.join(', ')}: ${plural(count, 'revoke waits', 'revokes wait')}.`;
      // The end time is a condition inside each policy (DESIGN.md "The grant policy"): new sessions stop on time.
      const sections = event.accounts.map((a) =>
        section(
          withList(
            [
              `*Keyturn could not reach account ${escapeMrkdwn(accountLabel(a))}:* ${truncate(escapeMrkdwn(redactSecrets(a.error)), MAX_ERROR_TEXT)}`,
              `${plural(a.grants.length, 'grant is', 'grants are')} past due and still attached there; every sweep tries again. New sessions stop at each policy's own end time, but open ones outlive it.`,
            ],
            a.grants.map(grantLabel),
          ),
        ),
      );
      return { text, blocks: sections };
    }
    case 'grant-refused': {
      const { grant } = event;
      const what = event.step === 'extension' ? 'extend' : 'apply';
      const text = `Keyturn refused to ${what} grant ${escapeMrkdwn(grant.id)}: its stored record does not hold up.`;
      const reason = truncate(escapeMrkdwn(event.reason), MAX_ERROR_TEXT);
      const outcome =
        event.step === 'extension'
          ? 'No new policy version was made, and the grant is being ended as failed.'
          : 'Nothing was created in IAM, and the grant was marked failed.';
      return {
        text,
        blocks: [
          section(
            `*Refused to ${what} ${grantLabel(grant)}:* ${reason}.\n${outcome} Keyturn did not record it this way: check who can write to Keyturn's table.`,
          ),
        ],
      };
    }
    case 'run-refused': {
      const { run } = event;
      const text = `Keyturn refused to send run ${escapeMrkdwn(run.id)}: its stored record does not hold up.`;
      const reason = truncate(escapeMrkdwn(event.reason), MAX_ERROR_TEXT);
      return {
        text,
        blocks: [
          section(
            `*Refused to send run ${escapeMrkdwn(run.id)}* (${mention(run.requester)}: ${escapeMrkdwn(run.snippet)} on ${escapeMrkdwn(run.target)}): ${reason}.\nNothing was sent to any node, and the run was marked failed. Keyturn did not record it this way: check who can write to Keyturn's table.`,
          ),
        ],
      };
    }
  }
}
