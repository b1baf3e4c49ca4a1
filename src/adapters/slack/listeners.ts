import type { App, BlockAction, ButtonAction, ViewSubmitAction } from '@slack/bolt';
import { runAccessCommand } from '../../app/access-command';
import type { DecideResult } from '../../app/decide';
import { decideOnGrant, previewDecision } from '../../app/decide';
import type { AckDeps } from '../../app/deps';
import { releaseGrant } from '../../app/end-grant';
import { decideOnExtension, requestExtension } from '../../app/extend-grant';
import {
  ACTION_APPROVE,
  ACTION_DENY,
  ACTION_EXTEND,
  ACTION_EXTENSION_APPROVE,
  ACTION_EXTENSION_DENY,
  ACTION_RELEASE,
  BLOCK_DENY_REASON,
  INPUT_DENY_REASON,
  VIEW_DENY_REASON,
  VIEW_EXTENSION_DENY_REASON,
} from './action-ids';
import { DENY_REASON_MAX_LENGTH } from './block-kit';
import { type ButtonArgs, cardOf } from './button-clicks';
import { denyReasonModal, extensionDenyReasonModal } from './deny-reason-blocks';
import {
  commandReply,
  decisionRefusal,
  endText,
  extensionDecisionRefusal,
  extensionRequestText,
  type Reply,
} from './replies';
import { openRequestForm, registerFormListeners } from './form-listeners';
import { registerHomeListeners } from './home-listeners';
import { registerRunListeners } from './run-listeners';
import { formOrTextCommand } from './slash-commands';

/**
 * Slack entry points. Each listener validates, makes at most one conditional write and enqueues:
 * Slack wants an answer within 3 s, and on Lambda the HTTP response waits for the listener
 * (FACTS.md), so IAM and SSM calls happen in the worker, never here.
 */
export function registerListeners(app: App, deps: AckDeps): void {
  formOrTextCommand(app, '/access', {
    openForm: (command, client) =>
      openRequestForm(deps, client, { user: command.user_id, triggerId: command.trigger_id }),
    run: async (command) =>
      commandReply(
        await runAccessCommand(deps, {
          user: command.user_id,
          text: command.text,
          // As for /run: a retried or replayed delivery carries the same one and finds the request already made.
          requestKey: command.trigger_id,
        }),
        deps.config.aws,
      ),
  });

  button(app, ACTION_APPROVE, async ({ body, action }) => {
    const grantId = action.value ?? '';
    const result = await decideOnGrant(deps, {
      grantId,
      clicker: body.user.id,
      action: 'approve',
      ...cardOf(body),
    });
    return result.outcome === 'refused' ? refusal(deps, result, grantId) : undefined;
  });

  button(app, ACTION_DENY, async ({ body, action, client }) => {
    const grantId = action.value ?? '';
    const check = await previewDecision(deps, { grantId, clicker: body.user.id, action: 'deny' });
    if (check.outcome === 'refused') return refusal(deps, check, grantId);
    // trigger_id expires 3 s after the click (FACTS.md), so the modal opens before anything slow.
    await client.views.open({ trigger_id: body.trigger_id, view: denyReasonModal(grantId) });
    return undefined;
  });

  app.view<ViewSubmitAction>(VIEW_DENY_REASON, async ({ ack, body, view }) => {
    const grantId = view.private_metadata;
    const reason = reasonFrom(view);
    if (reason.tooLong) return ack(reasonTooLong(reason.text.length));
    const result = await decideOnGrant(deps, {
      grantId,
      clicker: body.user.id,
      action: 'deny',
      ...(reason.text ? { denyReason: reason.text } : {}),
    });
    if (result.outcome === 'refused') return ack(modalError(refusal(deps, result, grantId)));
    return ack();
  });

  button(app, ACTION_RELEASE, async ({ body, action }) => {
    const result = await releaseGrant(deps, { user: body.user.id, grantId: action.value ?? '' });
    return { text: endText('done', result) };
  });

  button(app, ACTION_EXTEND, async ({ body, action }) => {
    const result = await requestExtension(deps, { user: body.user.id, grantId: action.value ?? '' });
    return { text: extensionRequestText(result) };
  });

  button(app, ACTION_EXTENSION_APPROVE, async ({ body, action }) => {
    const grantId = action.value ?? '';
    const result = await decideOnExtension(deps, { grantId, clicker: body.user.id, action: 'approve' });
    return result.outcome === 'refused' ? extensionRefusal(deps, result, grantId) : undefined;
  });

  button(app, ACTION_EXTENSION_DENY, async ({ body, action, client }) => {
    const grantId = action.value ?? '';
    const check = await previewDecision(
      deps,
      { grantId, clicker: body.user.id, action: 'deny' },
      { extension: true },
    );
    if (check.outcome === 'refused') return extensionRefusal(deps, check, grantId);
    await client.views.open({ trigger_id: body.trigger_id, view: extensionDenyReasonModal(grantId) });
    return undefined;
  });

  app.view<ViewSubmitAction>(VIEW_EXTENSION_DENY_REASON, async ({ ack, body, view }) => {
    const grantId = view.private_metadata;
    const reason = reasonFrom(view);
    if (reason.tooLong) return ack(reasonTooLong(reason.text.length));
    const result = await decideOnExtension(deps, {
      grantId,
      clicker: body.user.id,
      action: 'deny',
      ...(reason.text ? { denyReason: reason.text } : {}),
    });
    if (result.outcome === 'refused') return ack(modalError(extensionRefusal(deps, result, grantId)));
    return ack();
  });

  registerRunListeners(app, deps);
  registerFormListeners(app, deps);
  registerHomeListeners(app, deps);
}

/** A button whose handler may answer the clicker privately; nothing else sees the refusal. */
function button(app: App, actionId: string, handle: (args: ButtonArgs) => Promise<Reply | undefined>): void {
  app.action<BlockAction<ButtonAction>>(actionId, async (args) => {
    await args.ack();
    const reply = await handle(args);
    const channel = args.body.channel?.id ?? args.body.container?.channel_id;
    if (reply && channel)
      await args.client.chat.postEphemeral({ channel, user: args.body.user.id, ...reply });
    // A click on the Home tab has no channel: the answer goes to the app's DM with the clicker.
    else if (reply && args.body.container?.type === 'view')
      await args.client.chat.postMessage({ channel: args.body.user.id, ...reply });
  });
}

function refusal(
  deps: AckDeps,
  result: Extract<DecideResult, { outcome: 'refused' }>,
  grantId: string,
): Reply {
  const target = result.grant ? deps.config.targets[result.grant.target] : undefined;
  return decisionRefusal(result, grantId, target);
}

function extensionRefusal(
  deps: AckDeps,
  result: Parameters<typeof extensionDecisionRefusal>[0],
  grantId: string,
): Reply {
  const target = result.grant ? deps.config.targets[result.grant.target] : undefined;
  return extensionDecisionRefusal(result, grantId, target);
}

function reasonFrom(view: ViewSubmitAction['view']): { text: string; tooLong: boolean } {
  const text = view.state.values[BLOCK_DENY_REASON]?.[INPUT_DENY_REASON]?.value?.trim() ?? '';
  // The modal's max_length is enforced by Slack's client only; a crafted submission is checked here.
  return { text, tooLong: text.length > DENY_REASON_MAX_LENGTH };
}

function reasonTooLong(length: number) {
  return modalError({
    text: `Keep the reason under ${DENY_REASON_MAX_LENGTH} characters (it has ${length}).`,
  });
}

function modalError(reply: Reply) {
  return { response_action: 'errors' as const, errors: { [BLOCK_DENY_REASON]: reply.text } };
}
