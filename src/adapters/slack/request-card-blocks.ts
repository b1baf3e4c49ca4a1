import type { KnownBlock } from '@slack/types';
import { formatDuration } from '../../domain/duration';
import type { Ending, Grant } from '../../domain/grant';
import type { ManagedNode } from '../../domain/node';
import { describePrincipal } from '../../domain/principal';
import { DOCUMENT_DESCRIPTIONS, type Target } from '../../domain/target';
import { type ServedPlaces, whereShown } from '../../domain/place';
import type { RequestCardView } from '../../ports/chat';
import { ACTION_APPROVE, ACTION_DENY } from './action-ids';
import { actions, at, button, escapeMrkdwn, header, mention, type SlackMessage, section } from './block-kit';
import {
  approverList,
  byAt,
  endingOf,
  failureText,
  field,
  inPlace,
  lastMove,
  nodeCount,
  nodeLines,
  progress,
  reasonText,
  requestReason,
  sessionsEnded,
  tagList,
  targetLabel,
  targetWithDescription,
  until,
} from './grant-phrases';

function nodeSection(target: Target, nodes: readonly ManagedNode[]): string {
  return [`*Nodes tagged ${tagList(target)} right now:* ${nodeCount(nodes)}`, ...nodeLines(nodes)].join('\n');
}

function allowedSection(grant: Grant, target: Target, served: ServedPlaces | undefined): string {
  return [
    `*If approved, ${escapeMrkdwn(describePrincipal(grant.principal))} can:*`,
    ...target.documents.map((d) => `• start ${DOCUMENT_DESCRIPTIONS[d]}`),
    '• end and resume their own sessions',
    '• read-only discovery: list sessions and nodes, check connection status',
    ...(target.runAs === undefined ? [] : [`• sessions run as OS user \`${escapeMrkdwn(target.runAs)}\``]),
    `Only on nodes tagged ${tagList(target)}${inPlace(served, grant)}, ${until(grant)}.`,
  ].join('\n');
}

/** What an ending active grant shows on its card until the revoke steps finish. */
function endingPhrase(grant: Grant, ending: Ending): string {
  switch (ending.status) {
    case 'expired':
      return 'expired';
    case 'released':
      return `released by ${mention(ending.by)}`;
    case 'revoked':
      return `revoked by ${mention(ending.by)}: ${reasonText(ending.reason)}`;
    case 'failed':
      return `failed: ${failureText(grant)}`;
  }
}

function statusBlocks(grant: Grant, target: Target): KnownBlock[] {
  const move = lastMove(grant, grant.status);
  switch (grant.status) {
    case 'pending':
      return [
        section(progress(grant.approvals, target.approvals)),
        actions(
          button('Approve', ACTION_APPROVE, grant.id, 'primary'),
          button('Deny', ACTION_DENY, grant.id, 'danger'),
        ),
      ];
    case 'approved':
      return [
        section(
          `*Approved* by ${approverList(grant)}${byAt(undefined, grant.decidedAt ?? move?.at)} — setting up access…`,
        ),
      ];
    case 'active': {
      // The ending is written before the revoke steps run (domain/grant.ts Ending), so the card says so at once.
      if (grant.ending !== undefined)
        return [section(`*Ending:* ${endingPhrase(grant, grant.ending)} — removing access…`)];
      const extended = grant.extendedMinutes ? `; extended by ${formatDuration(grant.extendedMinutes)}` : '';
      return [section(`*Active* ${until(grant)} — approved by ${approverList(grant)}${extended}`)];
    }
    case 'denied':
      return [
        section(
          `*Denied*${byAt(grant.decidedBy ?? move?.by, grant.decidedAt ?? move?.at)} — ${reasonText(grant.denyReason)}`,
        ),
      ];
    case 'failed': {
      const line = `*Failed:* ${failureText(grant)}`;
      // Only a grant that was active had sessions to end; one that failed during apply never granted anything.
      return [section(grant.ending === undefined ? line : `${line} — ${sessionsEnded(grant)}`)];
    }
    case 'cancelled':
      return [section(`*Cancelled*${byAt(move?.by ?? grant.requester, move?.at)}`)];
    case 'lapsed':
      return [section(`*Lapsed:* nobody decided within ${formatDuration(target.approvalTimeoutMinutes)}`)];
    case 'expired': {
      // The policy's own condition ended access at expiresAt (DESIGN.md "The grant policy"), whenever the sweep ran.
      const when = grant.expiresAt ?? grant.ending?.at ?? move?.at;
      return [section(`*Expired*${at(when)} — ${sessionsEnded(grant)}`)];
    }
    case 'released': {
      const ending = endingOf(grant);
      return [
        section(
          `*Released early*${byAt(ending.by ?? grant.requester, ending.at ?? move?.at)} — ${sessionsEnded(grant)}`,
        ),
      ];
    }
    case 'revoked': {
      const ending = endingOf(grant);
      return [
        section(
          `*Revoked*${byAt(ending.by, ending.at)}: ${reasonText(ending.reason)} — ${sessionsEnded(grant)}`,
        ),
      ];
    }
  }
}

/**
 * The approval card in the requests channel; updated in place as the grant moves. `served` names the
 * grant's account and region when Keyturn serves more than one place.
 */
export function requestCard(view: RequestCardView, served?: ServedPlaces): SlackMessage {
  const { grant, target, nodes } = view;
  const where = served === undefined ? undefined : whereShown(served, grant);
  const blocks: KnownBlock[] = [
    header(`Access request ${grant.id}`),
    {
      type: 'section',
      fields: [
        field('Requester', mention(grant.requester)),
        field('Target', targetWithDescription(target)),
        ...(where === undefined ? [] : [field('Where', escapeMrkdwn(where))]),
        field('Duration', formatDuration(grant.durationMinutes)),
        field('Reason', requestReason(grant)),
      ],
    },
    section(nodeSection(target, nodes)),
    section(allowedSection(grant, target, served)),
    ...statusBlocks(grant, target),
  ];
  const text = `Access request ${escapeMrkdwn(grant.id)} for ${targetLabel(target)}${inPlace(served, grant)} (${formatDuration(grant.durationMinutes)}) by ${mention(grant.requester)}: ${grant.status}`;
  return { text, blocks };
}
