import type { AllMiddlewareArgs, BlockAction, ButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import type { MessageRef } from '../../domain/grant';

/** What a button listener receives: the click, its ack and the Web API client. */
export type ButtonArgs = SlackActionMiddlewareArgs<BlockAction<ButtonAction>> & AllMiddlewareArgs;

/** The card the click came from, so a decision that beats the card's own bookkeeping still updates it. */
export function cardOf(body: BlockAction): { card?: MessageRef } {
  const channel = body.channel?.id ?? body.container?.channel_id;
  const ts = body.message?.ts ?? body.container?.message_ts;
  return channel && ts ? { card: { channel, ts } } : {};
}
