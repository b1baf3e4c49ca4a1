// Keyturn sandbox page: a small Slack client for the sandbox's own Slack. Vanilla JS in native ES
// modules (this file imports the rest of page/), no build step, no network beyond this server. It shows
// only what the bot sent (messages, updates, ephemerals, views) and sends every click and command
// through the sandbox API, which signs it as Slack would for the bot.
import { POLL_MS, poll, refresh } from './api.js';
import { renderAccount } from './aws-panel.js';
import { channelsOf } from './channels.js';
import { renderClock, wireClock } from './clock.js';
import { wireComposer } from './composer.js';
import { renderChannel, renderThread } from './conversation.js';
import { renderModal, wireModal } from './modal.js';
import { renderSidebar, renderWho } from './sidebar.js';
import { $, HOME, onRender, STORE_KEY, toast, ui } from './ui.js';

function render() {
  const state = ui.state;
  if (!state) return;
  if (!ui.me || !state.people.some((p) => p.id === ui.me)) ui.me = state.me;
  const known =
    channelsOf(state).some((c) => c.id === ui.channel) || ui.channel === state.dm || ui.channel === HOME;
  if (!known) ui.channel = state.channels[0].id;
  renderWho(state);
  renderClock(state);
  renderSidebar(state);
  renderChannel(state);
  renderThread(state);
  renderAccount(state);
  renderModal(state);
}

onRender(render);
wireComposer();

$('who').addEventListener('change', (event) => {
  const wasDm = ui.state && ui.channel === ui.state.dm;
  ui.me = event.target.value;
  localStorage.setItem(STORE_KEY, ui.me);
  ui.terminal = {};
  ui.modalId = null;
  ui.lastJson = '';
  if (wasDm) ui.channel = '';
  refresh().catch((error) => toast(error.message));
});

wireClock();

$('thread-close').addEventListener('click', () => {
  ui.thread = null;
  render();
});

wireModal();

poll();
setInterval(poll, POLL_MS);
