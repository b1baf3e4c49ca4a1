import type { App, SlashCommand } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import type { Reply } from './replies';

/**
 * `/access` and `/run` answer alike: typed bare, the command opens its form (or says privately why
 * not); with text, `help` included, it runs the text command and answers privately. Either way the
 * answer is the ack itself, which Slack wants within 3 s (FACTS.md "Slack").
 */
export function formOrTextCommand(
  app: App,
  name: string,
  handle: {
    openForm(command: SlashCommand, client: WebClient): Promise<string | undefined>;
    run(command: SlashCommand): Promise<Reply>;
  },
): void {
  app.command(name, async ({ command, ack, client }) => {
    if (command.text.trim() === '') {
      const refusal = await handle.openForm(command, client);
      return ack(refusal ? { response_type: 'ephemeral', text: refusal } : undefined);
    }
    await ack({ response_type: 'ephemeral', ...(await handle.run(command)) });
  });
}
