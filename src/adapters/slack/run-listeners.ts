import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import { decideOnRun } from '../../app/decide-run';
import type { AckDeps } from '../../app/deps';
import { requestRun } from '../../app/run-snippet';
import type { DecisionAction } from '../../domain/approval';
import { ACTION_RUN_APPROVE, ACTION_RUN_DENY } from './action-ids';
import { type ButtonArgs, cardOf } from './button-clicks';
import { openRunForm } from './form-listeners';
import { runDecisionRefusal, runReply } from './run-replies';
import { formOrTextCommand } from './slash-commands';

/**
 * `/run` and the run approval buttons. Like every listener: validate, at most one conditional write,
 * enqueue, answer (FACTS.md "Slack": the ack must come within 3 s and, on Lambda, waits for this).
 * SendCommand happens in the worker.
 */
export function registerRunListeners(app: App, deps: AckDeps): void {
  formOrTextCommand(app, '/run', {
    openForm: (command, client) =>
      openRunForm(deps, client, {
        user: command.user_id,
        channel: command.channel_id,
        triggerId: command.trigger_id,
      }),
    run: async (command) =>
      runReply(
        await requestRun(deps, {
          user: command.user_id,
          channel: command.channel_id,
          text: command.text,
          // The same on a retried delivery of this request, so the retry finds the run instead of making another.
          requestKey: command.trigger_id,
        }),
      ),
  });

  const decide = (action: DecisionAction) => async (args: ButtonArgs) => {
    await args.ack();
    const runId = args.action.value ?? '';
    const result = await decideOnRun(deps, {
      runId,
      clicker: args.body.user.id,
      action,
      ...cardOf(args.body),
    });
    if (result.outcome !== 'refused') return;
    const target = result.run ? deps.config.targets[result.run.target] : undefined;
    const channel = args.body.channel?.id ?? args.body.container?.channel_id;
    if (channel)
      await args.client.chat.postEphemeral({
        channel,
        user: args.body.user.id,
        ...runDecisionRefusal(result, runId, target),
      });
  };
  app.action<BlockAction<ButtonAction>>(ACTION_RUN_APPROVE, decide('approve'));
  app.action<BlockAction<ButtonAction>>(ACTION_RUN_DENY, decide('deny'));
}
