import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Logger } from '../ports/logger';

/**
 * Runs one request's handler so that nothing it throws, now or later, can end the process: the
 * local server also runs the sweeper that expires grants and ends sessions, so one bad request
 * (Bolt's HTTPReceiver throws HTTPReceiverDeferredRequestError synchronously for a method it does
 * not route; `new URL()` throws on `//[`) must cost that request, never the server. The failed
 * request gets a 500 if nothing was sent yet, else its connection is cut.
 */
export function guardRequests(
  logger: Logger,
  handle: (req: IncomingMessage, res: ServerResponse) => void | Promise<void>,
): RequestListener {
  return (req, res) => {
    const fail = (error: unknown) => {
      logger.error(
        {
          err: error instanceof Error ? error.message : String(error),
          method: req.method,
          // The path only: a query string or a response_url token is nobody's business in a log.
          path: (req.url ?? '').split('?')[0]?.slice(0, 200),
        },
        'request failed; the server keeps running',
      );
      if (res.headersSent) {
        res.destroy();
        return;
      }
      res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify({ ok: false, error: 'internal error' }));
    };
    try {
      const pending = handle(req, res);
      if (pending) pending.catch(fail);
    } catch (error) {
      fail(error);
    }
  };
}
