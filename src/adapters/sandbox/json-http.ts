import type { IncomingMessage, ServerResponse } from 'node:http';
import { mediaType, readBoundedBody, RequestRefused } from './request-guard';

/** A JSON object as the page and the bot send it. */
export type Json = Record<string, unknown>;

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

export async function readJson(req: IncomingMessage): Promise<Json> {
  // A JSON content type cannot be sent cross-origin without a CORS preflight, which nothing here answers.
  if (mediaType(req) !== 'application/json')
    throw new RequestRefused(415, 'send the body as application/json');
  const text = await readBoundedBody(req);
  if (!text) return {};
  const parsed = parseJson(text);
  if (!parsed) throw new RequestRefused(400, 'body is not a JSON object');
  return parsed;
}

export function parseJson(text: string): Json | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return isRecord(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

export function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
