import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FakeSlackApi } from '../../src/adapters/sandbox/fake-slack-api';

// The request builders live with the sandbox, which signs the same requests for its page.
export {
  appHomeOpened,
  buttonClick,
  globalShortcut,
  homeButtonClick,
  postSigned,
  type SendOptions,
  sign,
  slashCommand,
  viewSubmission,
} from '../../src/adapters/sandbox/slack-requests';

/** A fake Slack Web API on its own localhost port, for `SLACK_API_URL`. */
export async function startFakeSlack(
  opts: ConstructorParameters<typeof FakeSlackApi>[0] = {},
): Promise<{ api: FakeSlackApi; url: string; close(): Promise<void> }> {
  const api = new FakeSlackApi(opts);
  const server: Server = createServer((req, res) => {
    const method = (req.url ?? '').replace(/^\/api\//, '').split('?')[0] ?? '';
    void api.handle(req, res, method);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    api,
    url: `http://127.0.0.1:${port}/api/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
