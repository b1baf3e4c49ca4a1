import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FakeSlackApi } from '../adapters/sandbox/fake-slack-api';

/** What the local server answers, and the small socket helpers around it. */
export interface Routes {
  slack?: (req: IncomingMessage, res: ServerResponse) => void;
  sandboxSlack?: FakeSlackApi;
  /** Sandbox mode only: the page at `/` and its API under `/sandbox/`; answers false for other paths. */
  sandboxPage?: (req: IncomingMessage, res: ServerResponse) => boolean;
  /** Set once everything is wired: the socket listens earlier (the sandbox's Slack is served on it). */
  ready?: boolean;
}

export function route(
  req: IncomingMessage,
  res: ServerResponse,
  routes: Routes,
  mode: string,
): void | Promise<void> {
  const path = (req.url ?? '/').split('?')[0] ?? '/';
  if (req.method === 'GET' && path === '/healthz') {
    // Healthy means ready: a probe that passes before the listeners are mounted would let traffic in early.
    res.writeHead(routes.ready ? 200 : 503, { 'content-type': 'application/json' });
    res.end(JSON.stringify(routes.ready ? { ok: true, mode } : { ok: false, mode, starting: true }));
    return;
  }
  if (path === '/slack/events' && req.method !== 'POST') {
    // Bolt's HTTPReceiver throws for any other method (HTTPReceiverDeferredRequestError); answer it here.
    res.writeHead(405, { allow: 'POST', 'content-type': 'application/json' });
    res.end(JSON.stringify({ ok: false, error: 'use POST: this is where Slack sends commands and clicks' }));
    return;
  }
  if (path === '/slack/events' && routes.slack) {
    routes.slack(req, res);
    return;
  }
  const sandboxApi = '/sandbox/slack/api/';
  if (path.startsWith(sandboxApi) && routes.sandboxSlack) {
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'POST', 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: false, error: 'the Web API takes POST' }));
      return;
    }
    return routes.sandboxSlack.handle(req, res, path.slice(sandboxApi.length));
  }
  if (routes.sandboxPage?.(req, res)) return;
  res.writeHead(404, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ ok: false, error: 'not found' }));
}

/** Where this process reaches its own server (the sandbox posts to itself): 127.0.0.1 when it listens everywhere. */
export function ownUrl(address: AddressInfo): string {
  const everywhere = address.address === '0.0.0.0' || address.address === '::';
  if (everywhere) return `http://127.0.0.1:${address.port}`;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}

export function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

export function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

export async function closeAll(closers: (() => Promise<void>)[]): Promise<void> {
  for (const close of closers.reverse()) {
    await close().catch(() => undefined);
  }
}
