import type { App, GlobalShortcut, ViewSubmitAction } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import type { AckDeps } from '../../app/deps';
import { submitRequest } from '../../app/request-access';
import { type RunSnippetResult, requestRun, submitRun } from '../../app/run-snippet';
import {
  BLOCK_RUN_PARAM_PREFIX,
  BLOCK_RUN_PICK,
  SHORTCUT_REQUEST_ACCESS,
  VIEW_REQUEST_FORM,
  VIEW_RUN_FORM,
  VIEW_RUN_PARAMS,
} from './action-ids';
import { accessReply } from './replies';
import { formDoneView, readRequestForm, requestForm, requestFormErrors } from './request-form-blocks';
import { readRunFormState, readRunParams, readRunPick, runForm, runParamsForm } from './run-form-blocks';
import { runReply } from './run-replies';

/**
 * The request form: opened by a bare `/access` or the "Request access" shortcut, submitted through
 * the same use case as the typed command, so both accept and refuse exactly the same requests.
 */
export function registerFormListeners(app: App, deps: AckDeps): void {
  app.shortcut<GlobalShortcut>(SHORTCUT_REQUEST_ACCESS, async ({ ack, shortcut, client }) => {
    await ack();
    const refusal = unmappedReply(deps, shortcut.user.id);
    // trigger_id expires 3 s after the click (FACTS.md): open the view before anything else.
    await client.views.open({
      trigger_id: shortcut.trigger_id,
      view: refusal
        ? formDoneView('Request access', refusal)
        : requestForm(Object.values(deps.config.targets), deps.config.aws),
    });
  });

  app.view<ViewSubmitAction>(VIEW_REQUEST_FORM, async ({ ack, body, view }) => {
    const form = readRequestForm(view.state.values);
    // One request per form: Slack's retry or a replay of this submission carries the same view id.
    const result = await submitRequest(deps, { user: body.user.id, ...form, requestKey: `view:${view.id}` });
    if (result.outcome === 'refused')
      return ack({ response_action: 'errors', errors: requestFormErrors(result.refusal) });
    return ack({
      response_action: 'update',
      view: formDoneView('Request sent', accessReply(result, deps.config.aws).text),
    });
  });

  app.view<ViewSubmitAction>(VIEW_RUN_FORM, async ({ ack, body, view }) => {
    const pick = readRunPick(view.state.values);
    if (!pick)
      return ack({ response_action: 'errors', errors: { [BLOCK_RUN_PICK]: 'Pick a snippet to run.' } });
    const snippet = deps.config.snippets[pick.snippet];
    const state = { channel: view.private_metadata, ...pick };
    if (snippet && Object.keys(snippet.params).length > 0)
      return ack({ response_action: 'update', view: runParamsForm(state, snippet) });
    const result = await submitRun(deps, {
      user: body.user.id,
      ...state,
      args: {},
      requestKey: `view:${view.id}`,
    });
    return ack(runFormAnswer(result, BLOCK_RUN_PICK));
  });

  app.view<ViewSubmitAction>(VIEW_RUN_PARAMS, async ({ ack, body, view }) => {
    const state = readRunFormState(view.private_metadata);
    if (!state)
      return ack({
        response_action: 'update',
        view: formDoneView('Run a snippet', 'This form is out of date: type `/run` again.'),
      });
    const result = await submitRun(deps, {
      user: body.user.id,
      ...state,
      args: readRunParams(view.state.values),
      // One view is submitted once; Slack's retry of the same submission carries the same view id.
      requestKey: `view:${view.id}`,
    });
    const firstBlock = Object.keys(view.state.values)[0] ?? BLOCK_RUN_PICK;
    const field =
      result.outcome === 'refused' &&
      result.refusal.reason === 'bad-params' &&
      'name' in result.refusal.problem
        ? `${BLOCK_RUN_PARAM_PREFIX}${result.refusal.problem.name}`
        : firstBlock;
    return ack(runFormAnswer(result, field));
  });
}

/** Started: the form turns into the command's own confirmation. Refused: the command's own words, on `field`. */
function runFormAnswer(result: RunSnippetResult, field: string) {
  const text = runReply(result).text;
  if (result.outcome === 'refused')
    // Field errors are plain text: the reply's inline-code marks would show as backticks.
    return { response_action: 'errors' as const, errors: { [field]: text.replace(/`/g, '') } };
  return { response_action: 'update' as const, view: formDoneView('Run started', text) };
}

/**
 * A bare `/run`: the run form, listing what the person may run now; with nothing to pick, the
 * command's help, which says why and how to get access. Returns the ephemeral reply, if any.
 */
export async function openRunForm(
  deps: AckDeps,
  client: WebClient,
  input: { user: string; channel: string; triggerId: string },
): Promise<string | undefined> {
  const help = await requestRun(deps, { user: input.user, channel: input.channel, text: '' });
  const runnable = help.outcome === 'help' && help.mapped && help.entries.some((e) => e.permission.allowed);
  if (help.outcome !== 'help' || !runnable) return runReply(help).text;
  await client.views.open({ trigger_id: input.triggerId, view: runForm(help.entries, input.channel) });
  return undefined;
}

/**
 * A bare `/access`: the form, or for someone Keyturn cannot grant anything, the command's own
 * answer. Returns the ephemeral reply to ack with, if any.
 */
export async function openRequestForm(
  deps: Pick<AckDeps, 'config'>,
  client: WebClient,
  input: { user: string; triggerId: string },
): Promise<string | undefined> {
  const refusal = unmappedReply(deps, input.user);
  if (refusal) return refusal;
  await client.views.open({
    trigger_id: input.triggerId,
    view: requestForm(Object.values(deps.config.targets), deps.config.aws),
  });
  return undefined;
}

function unmappedReply(deps: Pick<AckDeps, 'config'>, user: string): string | undefined {
  if (Object.hasOwn(deps.config.people, user)) return undefined;
  return accessReply({ outcome: 'refused', refusal: { reason: 'unmapped-user', user } }).text;
}
