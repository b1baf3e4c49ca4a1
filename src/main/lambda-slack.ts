import { createDynamoCommandRunStore } from '../adapters/dynamodb/command-run-store';
import { newGrantId } from '../adapters/grant-ids';
import { registerListeners } from '../adapters/slack/listeners';
import { createSlackChat } from '../adapters/slack/slack-chat';
import { systemClock } from '../adapters/system-clock';
import type { AckDeps } from '../app/deps';
import { containerOf, type SlackHandler, slackApp } from './lambda-runtime';

/**
 * The slack function's composition root: the ack path only (validate, one conditional write,
 * enqueue, answer; DESIGN.md "Slack rules"). It builds no IAM or SSM client and no session or digest
 * store: those are the worker's and the schedules' (src/main/lambda.ts), and leaving them out keeps
 * them out of this bundle, whose cold start Slack's 3-second ack has to absorb (issue 13).
 */
export function slackHandler(): SlackHandler {
  const container = containerOf(async (runtime, secrets) => {
    const { app, receiver } = await slackApp(secrets);
    const deps: AckDeps = {
      config: runtime.config,
      grants: runtime.grants,
      queue: runtime.queue,
      runs: createDynamoCommandRunStore({ documentClient: runtime.dynamo, tableName: runtime.tableName }),
      chat: createSlackChat({ client: app.client, clock: systemClock, served: runtime.config.aws }),
      clock: systemClock,
      logger: runtime.logger,
      newId: () => newGrantId(),
      // SendCommand is the worker's; the listeners only label a run's messages.
      aws: { simulated: false },
    };
    registerListeners(app, deps);
    return receiver.toHandler();
  });
  return async (event, context) => (await container())(event, context);
}
