import type { App, BlockAction, ButtonAction, ViewSubmitAction } from '@slack/bolt';
import type { DecideResult } from '../../app/decide';
import { decideOnGrant, previewDecision } from '../../app/decide';
import type { Deps } from '../../app/deps';
import { requestAccess } from '../../app/request-access';
import type { MessageRef } from '../../domain/grant';
import {
  ACTION_APPROVE,
  ACTION_DENY,
  BLOCK_DENY_REASON,
  INPUT_DENY_REASON,
  VIEW_DENY_REASON,
} from './action-ids';
import { DENY_REASON_MAX_LENGTH, denyReasonModal } from './blocks';
import { accessReply, decisionRefusal } from './replies';

/**
 * Slack entry points. Each listener validates, makes at most one conditional write and enqueues:
 * Slack wants an answer within 3 s, and on Lambda the HTTP response waits for the listener
 * (FACTS.md), so IAM and SSM calls happen in the worker, never here.
 */
export function registerListeners(app: App, deps: Deps): void {
  app.command('/access', async ({ command, ack }) => {
    const result = await requestAccess(deps, { user: command.user_id, text: command.text });
    await ack({ response_type: 'ephemeral', ...accessReply(result) });
  });

  app.action<BlockAction<ButtonAction>>(ACTION_APPROVE, async ({ ack, body, action, client }) => {
    await ack();
    const grantId = action.value ?? '';
    const result = await decideOnGrant(deps, {
      grantId,
      clicker: body.user.id,
      action: 'approve',
      ...cardOf(body),
    });
    if (result.outcome === 'refused' && body.channel?.id) {
      await client.chat.postEphemeral({
        channel: body.channel.id,
        user: body.user.id,
        ...refusal(deps, result, grantId),
      });
    }
  });

  app.action<BlockAction<ButtonAction>>(ACTION_DENY, async ({ ack, body, action, client }) => {
    await ack();
    const grantId = action.value ?? '';
    const check = await previewDecision(deps, { grantId, clicker: body.user.id, action: 'deny' });
    if (check.outcome === 'refused') {
      if (body.channel?.id)
        await client.chat.postEphemeral({
          channel: body.channel.id,
          user: body.user.id,
          ...refusal(deps, check, grantId),
        });
      return;
    }
    // trigger_id expires 3 s after the click (FACTS.md), so the modal opens before anything slow.
    await client.views.open({ trigger_id: body.trigger_id, view: denyReasonModal(grantId) });
  });

  app.view<ViewSubmitAction>(VIEW_DENY_REASON, async ({ ack, body, view }) => {
    const grantId = view.private_metadata;
    const reason = view.state.values[BLOCK_DENY_REASON]?.[INPUT_DENY_REASON]?.value?.trim();
    // The modal's max_length is enforced by Slack's client only; a crafted submission is checked here.
    if (reason && reason.length > DENY_REASON_MAX_LENGTH) {
      await ack({
        response_action: 'errors',
        errors: {
          [BLOCK_DENY_REASON]: `Keep the reason under ${DENY_REASON_MAX_LENGTH} characters (it has ${reason.length}).`,
        },
      });
      return;
    }
    const result = await decideOnGrant(deps, {
      grantId,
      clicker: body.user.id,
      action: 'deny',
      ...(reason ? { denyReason: reason } : {}),
    });
    if (result.outcome === 'refused') {
      await ack({
        response_action: 'errors',
        errors: { [BLOCK_DENY_REASON]: refusal(deps, result, grantId).text },
      });
      return;
    }
    await ack();
  });
}

function refusal(deps: Deps, result: Extract<DecideResult, { outcome: 'refused' }>, grantId: string) {
  const target = result.grant ? deps.config.targets[result.grant.target] : undefined;
  return decisionRefusal(result, grantId, target);
}

/** The card the click came from, so a decision that beats the card's own bookkeeping still updates it. */
function cardOf(body: BlockAction): { card?: MessageRef } {
  const channel = body.channel?.id ?? body.container?.channel_id;
  const ts = body.message?.ts ?? body.container?.message_ts;
  return channel && ts ? { card: { channel, ts } } : {};
}
