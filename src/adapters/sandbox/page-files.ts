import { readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import path from 'node:path';

/** Where the page finds its token: index.html carries it in a meta tag, filled in as it is served. */
const PAGE_TOKEN_SLOT = '__KEYTURN_PAGE_TOKEN__';
const PAGE_DIR = path.join(__dirname, 'page');
const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  // Native ES modules (page.js imports the rest of page/): a browser runs a module only when it is
  // served with a JavaScript MIME type (https://html.spec.whatwg.org/multipage/webappapis.html#fetch-a-single-module-script).
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

/**
 * URL path → file in page/: `/` is index.html, every script and stylesheet in page/ is
 * `/sandbox/page/<file>`. Listed once, at start: only a name in this list is ever read, so no path a
 * request makes up can reach another file.
 */
export const PAGE_FILES: Readonly<Record<string, string>> = Object.freeze({
  '/': 'index.html',
  ...Object.fromEntries(
    readdirSync(PAGE_DIR)
      .filter((file) => file !== 'index.html' && path.extname(file) in CONTENT_TYPES)
      .map((file) => [`/sandbox/page/${file}`, file]),
  ),
});

/** Serves one page file; index.html with this process's page token in it. */
export async function servePage(res: ServerResponse, file: string, pageToken: string): Promise<void> {
  const read = await readFile(path.join(PAGE_DIR, file));
  // Only the HTML carries the token; another origin cannot read it (no CORS here) nor frame it.
  const body = file === 'index.html' ? read.toString('utf8').replace(PAGE_TOKEN_SLOT, pageToken) : read;
  res.writeHead(200, {
    'content-type': CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream',
    'cache-control': 'no-store',
    // Everything comes from this server: no CDN, no fonts, no network beyond localhost. No frames:
    // another site must not overlay the page and have someone click Approve through it.
    'content-security-policy':
      "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    'x-frame-options': 'DENY',
  });
  res.end(body);
}
