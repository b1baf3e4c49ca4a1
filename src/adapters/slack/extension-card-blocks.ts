import type { KnownBlock } from '@slack/types';
import { formatDuration } from '../../domain/duration';
import { addMinutes } from '../../domain/grant';
import { type ServedPlaces, whereShown } from '../../domain/place';
import type { ExtensionCardView } from '../../ports/chat';
import { ACTION_EXTENSION_APPROVE, ACTION_EXTENSION_DENY } from './action-ids';
import {
  actions,
  button,
  escapeMrkdwn,
  header,
  mention,
  type SlackMessage,
  section,
  slackDate,
} from './block-kit';
import {
  field,
  inPlace,
  progress,
  reasonText,
  requestReason,
  targetLabel,
  targetWithDescription,
} from './grant-phrases';

/** The view's outcome, or the one a finished extension's own state implies, so a decided card never shows buttons. */
function extensionOutcome(view: ExtensionCardView): ExtensionCardView['outcome'] {
  if (view.outcome !== undefined) return view.outcome;
  const { extension } = view;
  const by = extension.decidedBy === undefined ? {} : { by: extension.decidedBy };
  if (extension.state === 'extended') return { kind: 'extended', ...by };
  if (extension.state === 'denied')
    return {
      kind: 'denied',
      ...by,
      ...(extension.denyReason === undefined ? {} : { reason: extension.denyReason }),
    };
  return undefined;
}

function extensionStatusBlocks(view: ExtensionCardView): KnownBlock[] {
  const { grant, target, extension } = view;
  const outcome = extensionOutcome(view);
  if (outcome !== undefined) {
    switch (outcome.kind) {
      case 'extended': {
        const approvers =
          extension.approvals.length > 0
            ? extension.approvals.map((a) => mention(a.by)).join(', ')
            : mention(outcome.by ?? extension.decidedBy ?? 'keyturn');
        return [section(`*Extended* until ${slackDate(view.newExpiresAt)} (approved by ${approvers})`)];
      }
      case 'denied':
        return [section(`*Denied* by ${mention(outcome.by ?? 'keyturn')}: ${reasonText(outcome.reason)}`)];
      case 'dropped':
        return [section('*Dropped:* the grant ended first')];
    }
  }
  if (extension.state === 'approved') {
    const by =
      extension.approvals.map((a) => mention(a.by)).join(', ') || mention(extension.decidedBy ?? 'keyturn');
    return [section(`*Approved* by ${by} — extending…`)];
  }
  return [
    section(progress(extension.approvals, target.approvals)),
    actions(
      button('Approve', ACTION_EXTENSION_APPROVE, grant.id, 'primary'),
      button('Deny', ACTION_EXTENSION_DENY, grant.id, 'danger'),
    ),
  ];
}

/** Once applied, the grant already carries the new expiry; the old one is then the new one less the extra time. */
function expiryBefore(view: ExtensionCardView): string | undefined {
  const { grant, extension, newExpiresAt } = view;
  const next = Date.parse(newExpiresAt);
  if (Number.isNaN(next)) return grant.expiresAt;
  if (grant.expiresAt !== undefined && Date.parse(grant.expiresAt) < next) return grant.expiresAt;
  return addMinutes(newExpiresAt, -extension.minutes);
}

/**
 * The approval card for extending an active grant, in the requests channel; updated in place once
 * decided. `served` names the grant's account and region when Keyturn serves more than one place.
 */
export function extensionCard(view: ExtensionCardView, served?: ServedPlaces): SlackMessage {
  const { grant, target, extension } = view;
  const where = served === undefined ? undefined : whereShown(served, grant);
  const limit = target.maxTotalMinutes ?? target.maxDurationMinutes;
  const outcome = extensionOutcome(view);
  const extended = outcome?.kind === 'extended';
  const before = expiryBefore(view);
  const requester =
    extension.requestedBy === grant.requester
      ? mention(grant.requester)
      : `${mention(grant.requester)} (extension asked by ${mention(extension.requestedBy)})`;
  const blocks: KnownBlock[] = [
    header(`Extension request ${grant.id}`),
    {
      type: 'section',
      fields: [
        field('Requester', requester),
        field('Target', targetWithDescription(target)),
        ...(where === undefined ? [] : [field('Where', escapeMrkdwn(where))]),
        field(
          extended ? 'Previous expiry' : 'Current expiry',
          before === undefined ? 'not set' : slackDate(before),
        ),
        field('Extra time', formatDuration(extension.minutes)),
        field('New expiry', slackDate(view.newExpiresAt)),
        field('Total length', `${formatDuration(view.totalMinutes)} (limit ${formatDuration(limit)})`),
        field('Original reason', requestReason(grant)),
      ],
    },
    ...extensionStatusBlocks(view),
  ];
  const state = outcome?.kind ?? extension.state;
  const text = `Extension request ${escapeMrkdwn(grant.id)} for ${targetLabel(target)}${inPlace(served, grant)} (+${formatDuration(extension.minutes)}) by ${mention(grant.requester)}: ${state}`;
  return { text, blocks };
}
