// What every part of the sandbox page shares: the page's state (who is picked, which channel, the last
// state the sandbox sent), the DOM helpers, and the hook through which any part asks for a re-render.

export const $ = (id) => document.getElementById(id);
export const SLACKBOT = 'USLACKBOT';

export const STORE_KEY = 'keyturn.sandbox.me';
export const SEEN_KEY = 'keyturn.sandbox.seen';

export function readSeen() {
  try {
    const seen = JSON.parse(localStorage.getItem(SEEN_KEY) || '{}');
    return seen && typeof seen === 'object' ? seen : {};
  } catch {
    return {};
  }
}
/** The sidebar entry of Keyturn's Home tab (not a channel). */
export const HOME = 'HOME';

export const ui = {
  me: localStorage.getItem(STORE_KEY) || '',
  channel: '',
  thread: null,
  state: null,
  lastJson: '',
  modalId: null,
  /** me → channel → top-level messages already seen there; kept across reloads, as Slack keeps read state. */
  seen: readSeen(),
  /** nodeId → { text, error } from the last Start session click. */
  terminal: {},
  suggestion: -1,
};

export function toast(text) {
  const el = document.createElement('div');
  el.className = 'toast';
  el.textContent = text;
  $('toasts').append(el);
  setTimeout(() => el.remove(), 6000);
}

export const names = () => (ui.state ? ui.state.names : {});
export const nameOf = (id) => names()[id] || id;
export const sandboxNow = () => (ui.state ? new Date(ui.state.now) : new Date());

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

let renderPage = () => {};
/** page.js hands over its render(); parts that change `ui` call render() to show it. */
export function onRender(fn) {
  renderPage = fn;
}
export function render() {
  renderPage();
}
