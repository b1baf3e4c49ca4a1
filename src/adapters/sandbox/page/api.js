// The page's transport: the sandbox's JSON API, with the page token this server served the page with.
import { STORE_KEY, render, toast, ui } from './ui.js';

export const POLL_MS = 1000;

// The server fills this in as it serves the page and refuses API requests without it, so no other
// page (another origin, another tab's stale copy after a restart) can act in the sandbox.
export const PAGE_TOKEN =
  document.querySelector('meta[name="keyturn-page-token"]')?.getAttribute('content') || '';
export const TOKEN_HEADER = 'x-keyturn-page-token';

export async function post(path, body) {
  const res = await fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', [TOKEN_HEADER]: PAGE_TOKEN },
    body: JSON.stringify(body),
  });
  const answer = await res.json().catch(() => ({ ok: false, error: `HTTP ${res.status}` }));
  if (!res.ok) throw new Error(answer.error || `HTTP ${res.status}`);
  return answer;
}

export async function refresh() {
  // With nobody picked yet the sandbox answers as the first person in the config.
  const asked = ui.me;
  const res = await fetch(`/sandbox/api/state?user=${encodeURIComponent(asked)}`, {
    headers: { [TOKEN_HEADER]: PAGE_TOKEN },
  });
  if (res.status === 400 && asked) {
    ui.me = '';
    localStorage.removeItem(STORE_KEY);
    return refresh();
  }
  if (res.status === 403) {
    // A restarted sandbox has a new token: this copy of the page can no longer act.
    if (!ui.reloadSaid) toast('The sandbox was restarted or refused this page: reload it.');
    ui.reloadSaid = true;
    return;
  }
  const text = await res.text();
  // Someone else was picked while this was on its way: their state is what the page must show.
  if (asked !== ui.me && asked !== '') return;
  if (text === ui.lastJson) return;
  ui.lastJson = text;
  ui.state = JSON.parse(text);
  render();
}

let polling = false;
export async function poll() {
  if (polling) return;
  polling = true;
  try {
    await refresh();
  } catch (error) {
    document.body.dataset.offline = 'true';
    console.warn('sandbox poll failed', error);
  } finally {
    polling = false;
  }
}

/** Runs an action with `button` disabled, then shows its effect at once. */
export async function act(button, run) {
  if (button) button.disabled = true;
  try {
    return await run();
  } catch (error) {
    toast(error.message);
    return undefined;
  } finally {
    if (button) button.disabled = false;
    ui.lastJson = '';
    await poll();
  }
}
