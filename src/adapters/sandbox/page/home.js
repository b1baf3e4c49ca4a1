// Keyturn's Home tab, as Slack shows an app's Home.
import { act, post } from './api.js';
import { renderBlock } from './blocks.js';
import { $, el, ui } from './ui.js';

/** Keyturn's Home tab, as Slack shows an app's Home: the published view, and no composer. */
export function renderHome(state) {
  $('channel-title').textContent = 'keyturn';
  $('channel-purpose').textContent = 'Home: your access, and what waits for you';
  $('composer').hidden = true;
  const list = $('messages');
  list.textContent = '';
  const home = el('div', 'home-tab');
  if (!state.home) home.append(el('div', 'empty', 'Opening Home…'));
  // Someone else picked while Home was open: Slack sends app_home_opened for them too.
  if (!state.home && ui.homeOpenedFor !== ui.me) {
    ui.homeOpenedFor = ui.me;
    act(null, () => post('/sandbox/api/home/open', { user: ui.me }));
  }
  for (const block of state.home?.blocks || []) home.append(renderBlock(block, { home: true }));
  list.append(home);
}
