import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import type { AckDeps } from '../../app/deps';
import { cancelRequest, revokeByApprover } from '../../app/end-grant';
import { ACTION_CANCEL, ACTION_REVOKE } from './action-ids';
import type { ButtonArgs } from './button-clicks';
import { endText } from './replies';

/**
 * App Home: opening the tab queues its rendering (it looks nodes up in SSM, which stays off the ack
 * path), and the Home-only buttons, [Cancel] and [Revoke], run the same use cases as
 * `/access cancel` and `/access revoke`. The other Home buttons are the cards' and DMs' own.
 */
export function registerHomeListeners(app: App, deps: AckDeps): void {
  app.event('app_home_opened', async ({ event }) => {
    if (event.tab !== 'home') return;
    await deps.queue.enqueue({ kind: 'publish-home', user: event.user });
  });

  app.action<BlockAction<ButtonAction>>(ACTION_CANCEL, async (args) => {
    await args.ack();
    const user = args.body.user.id;
    const result = await cancelRequest(deps, { user, grantId: args.action.value ?? '' });
    if (result.outcome === 'refused') await tell(args, endText('cancel', result));
  });

  app.action<BlockAction<ButtonAction>>(ACTION_REVOKE, async (args) => {
    await args.ack();
    const user = args.body.user.id;
    const result = await revokeByApprover(deps, { user, grantId: args.action.value ?? '' });
    if (result.outcome === 'refused') await tell(args, endText('revoke', result));
  });
}

/** A refusal to a Home tab click: Home has no channel for an ephemeral, so it goes to the app's DM. */
async function tell(args: ButtonArgs, text: string): Promise<void> {
  await args.client.chat.postMessage({ channel: args.body.user.id, text });
}
