import type { HomeView as SlackHomeView, KnownBlock } from '@slack/types';
import { formatDuration } from '../../domain/duration';
import type { Grant } from '../../domain/grant';
import type { ManagedNode } from '../../domain/node';
import type { ServedPlaces } from '../../domain/place';
import type { HomeView } from '../../ports/chat';
import {
  ACTION_APPROVE,
  ACTION_CANCEL,
  ACTION_DENY,
  ACTION_EXTEND,
  ACTION_EXTENSION_APPROVE,
  ACTION_EXTENSION_DENY,
  ACTION_RELEASE,
  ACTION_REVOKE,
} from './action-ids';
import {
  actions,
  button,
  context,
  escapeMrkdwn,
  header,
  mention,
  section,
  slackDate,
  truncate,
} from './block-kit';
import { inPlace } from './grant-phrases';

/** Items per list; with a section and an actions block each, four lists stay under Home's 100 blocks. */
const LIST_CAP = 10;
/** Node names shown per grant; the rest are counted. */
const NODE_CAP = 5;
const MAX_REASON = 200;

function nodeList(nodes: readonly ManagedNode[] | undefined): string {
  if (nodes === undefined) return '';
  if (nodes.length === 0) return '\nNo node carries its tags right now.';
  const online = [...nodes].sort((a, b) => Number(b.ping === 'Online') - Number(a.ping === 'Online'));
  const names = online
    .slice(0, NODE_CAP)
    .map((n) => `${escapeMrkdwn(n.name || n.id)}${n.ping === 'Online' ? '' : ' (offline)'}`);
  const more = nodes.length > NODE_CAP ? `, and ${nodes.length - NODE_CAP} more` : '';
  return `\nNodes: ${names.join(', ')}${more}`;
}

function reason(g: Grant): string {
  return `“${truncate(escapeMrkdwn(g.reason.replace(/\s+/g, ' ')), MAX_REASON)}”`;
}

/** The grant's target and id, and where it is when Keyturn serves more than one place. */
function what(g: Grant, served: ServedPlaces | undefined): string {
  return `*${escapeMrkdwn(g.target)}*${inPlace(served, g)} · \`${escapeMrkdwn(g.id)}\``;
}

function until(g: Grant): string {
  return g.expiresAt ? ` · until ${slackDate(g.expiresAt)}` : '';
}

/** The requester's own extension, while it waits: [Extend] would only be told one is already asked. */
function extensionAsked(g: Grant): string {
  return g.extension?.state === 'pending'
    ? `\n:stopwatch: ${formatDuration(g.extension.minutes)} more asked, waiting for approval`
    : '';
}

/** What waits for an approver: a request, or an active grant's extension; newest first, capped as one list. */
type Waiting = { kind: 'request' | 'extension'; grant: Grant; askedAt: string };

function waitingForMe(view: HomeView): Waiting[] {
  return [
    ...view.waitingForMe.map((grant) => ({ kind: 'request' as const, grant, askedAt: grant.requestedAt })),
    ...view.extensionsWaitingForMe.map((grant) => ({
      kind: 'extension' as const,
      grant,
      askedAt: grant.extension?.requestedAt ?? grant.requestedAt,
    })),
  ].sort((a, b) => b.askedAt.localeCompare(a.askedAt));
}

function waitingBlocks({ kind, grant: g }: Waiting, served: ServedPlaces | undefined): KnownBlock[] {
  if (kind === 'request')
    return [
      section(
        `:inbox_tray: ${mention(g.requester)} asks for ${what(g, served)} for ${formatDuration(g.durationMinutes)}\n${reason(g)}`,
      ),
      actions(
        button('Approve', ACTION_APPROVE, g.id, 'primary'),
        button('Deny', ACTION_DENY, g.id, 'danger'),
      ),
    ];
  const minutes = g.extension?.minutes ?? 0;
  const now = g.expiresAt ? ` · now until ${slackDate(g.expiresAt)}` : '';
  return [
    section(
      `:stopwatch: ${mention(g.requester)} asks for ${formatDuration(minutes)} more on ${what(g, served)}${now}\nOriginal reason: ${reason(g)}`,
    ),
    // The extension card's own buttons, so the same listeners (and the same one conditional write) answer.
    actions(
      button('Approve', ACTION_EXTENSION_APPROVE, g.id, 'primary'),
      button('Deny', ACTION_EXTENSION_DENY, g.id, 'danger'),
    ),
  ];
}

function capped<T>(items: readonly T[], render: (item: T) => KnownBlock[]): KnownBlock[] {
  const blocks = items.slice(0, LIST_CAP).flatMap(render);
  if (items.length > LIST_CAP)
    blocks.push(context(`…and ${items.length - LIST_CAP} more: \`/access list\` shows them all.`));
  return blocks;
}

/**
 * The Home tab: the viewer's own active grants ([I'm done] [Extend], the same order as the DMs) and
 * pending requests ([Cancel]); for approvers, requests and extensions waiting for them ([Approve]
 * [Deny]) and active grants on their targets ([Revoke]). The buttons carry the same action ids as the cards and
 * DMs, so the same listeners answer them. `served` names each grant's account and region when Keyturn
 * serves more than one place.
 */
export function homeTab(view: HomeView, served?: ServedPlaces): SlackHomeView {
  const blocks: KnownBlock[] = [header('Your access')];
  if (view.active.length === 0 && view.pending.length === 0)
    blocks.push(
      section(
        'Nothing open. Type `/access` (or use the *Request access* shortcut) to ask for access from a form.',
      ),
    );
  blocks.push(
    ...capped(view.active, (g) => [
      section(`:unlock: ${what(g, served)}${until(g)}${extensionAsked(g)}${nodeList(view.nodes[g.target])}`),
      actions(button("I'm done", ACTION_RELEASE, g.id), button('Extend', ACTION_EXTEND, g.id)),
    ]),
    ...capped(view.pending, (g) => [
      section(
        `:hourglass_flowing_sand: ${what(g, served)} · ${formatDuration(g.durationMinutes)} · waiting for approval\n${reason(g)}`,
      ),
      actions(button('Cancel', ACTION_CANCEL, g.id)),
    ]),
  );
  const waiting = waitingForMe(view);
  if (waiting.length > 0 || view.activeOnMyTargets.length > 0) {
    blocks.push({ type: 'divider' }, header('On your targets'));
    blocks.push(
      ...capped(waiting, (w) => waitingBlocks(w, served)),
      ...capped(view.activeOnMyTargets, (g) => [
        section(`:unlock: ${mention(g.requester)} has ${what(g, served)}${until(g)}`),
        actions({
          ...button('Revoke', ACTION_REVOKE, g.id, 'danger'),
          confirm: {
            title: { type: 'plain_text', text: 'Revoke access?' },
            text: {
              type: 'plain_text',
              text: `End grant ${g.id} on ${g.target} now and close its sessions.`,
            },
            confirm: { type: 'plain_text', text: 'Revoke' },
            deny: { type: 'plain_text', text: 'Keep' },
            style: 'danger',
          },
        }),
      ]),
    );
    if (waiting.length === 0) blocks.push(context('No request is waiting for you.'));
  }
  return { type: 'home', blocks };
}
