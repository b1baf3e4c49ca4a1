import type { App, GlobalShortcut, ViewSubmitAction } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import type { Deps } from '../../app/deps';
import { submitRequest } from '../../app/request-access';
import { SHORTCUT_REQUEST_ACCESS, VIEW_REQUEST_FORM } from './action-ids';
import { accessReply } from './replies';
import { formDoneView, readRequestForm, requestForm, requestFormErrors } from './request-form-blocks';

/**
 * The request form: opened by a bare `/access` or the "Request access" shortcut, submitted through
 * the same use case as the typed command, so both accept and refuse exactly the same requests.
 */
export function registerFormListeners(app: App, deps: Deps): void {
  app.shortcut<GlobalShortcut>(SHORTCUT_REQUEST_ACCESS, async ({ ack, shortcut, client }) => {
    await ack();
    const refusal = unmappedReply(deps, shortcut.user.id);
    // trigger_id expires 3 s after the click (FACTS.md): open the view before anything else.
    await client.views.open({
      trigger_id: shortcut.trigger_id,
      view: refusal
        ? formDoneView('Request access', refusal)
        : requestForm(Object.values(deps.config.targets)),
    });
  });

  app.view<ViewSubmitAction>(VIEW_REQUEST_FORM, async ({ ack, body, view }) => {
    const form = readRequestForm(view.state.values);
    const result = await submitRequest(deps, { user: body.user.id, ...form });
    if (result.outcome === 'refused')
      return ack({ response_action: 'errors', errors: requestFormErrors(result.refusal) });
    return ack({ response_action: 'update', view: formDoneView('Request sent', accessReply(result).text) });
  });
}

/**
 * A bare `/access`: the form, or for someone Keyturn cannot grant anything, the command's own
 * answer. Returns the ephemeral reply to ack with, if any.
 */
export async function openRequestForm(
  deps: Pick<Deps, 'config'>,
  client: WebClient,
  input: { user: string; triggerId: string },
): Promise<string | undefined> {
  const refusal = unmappedReply(deps, input.user);
  if (refusal) return refusal;
  await client.views.open({
    trigger_id: input.triggerId,
    view: requestForm(Object.values(deps.config.targets)),
  });
  return undefined;
}

function unmappedReply(deps: Pick<Deps, 'config'>, user: string): string | undefined {
  if (Object.hasOwn(deps.config.people, user)) return undefined;
  return accessReply({ outcome: 'refused', refusal: { reason: 'unmapped-user', user } }).text;
}
