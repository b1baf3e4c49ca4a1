// The sandbox clock in the top bar: the time it shows, the buttons that move it, and Reset.
import { act, post } from './api.js';
import { fullFormat } from './dates.js';
import { $, SEEN_KEY, ui } from './ui.js';

export function renderClock(state) {
  const now = new Date(state.now);
  const clock = $('clock-now');
  clock.textContent = new Intl.DateTimeFormat(undefined, {
    weekday: 'short',
    month: 'short',
    day: 'numeric',
    hour: 'numeric',
    minute: '2-digit',
  }).format(now);
  clock.dateTime = state.now;
  clock.title = fullFormat.format(now);
  const minutes = Math.round(state.offsetMs / 60000);
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  const ahead = minutes === 0 ? 'real time' : `+${h ? `${h} h ` : ''}${m ? `${m} min` : ''}`.trim();
  $('clock-offset').textContent = `(${ahead}, ${Intl.DateTimeFormat().resolvedOptions().timeZone})`;
}

/** The +10 min / +1 h / +1 day buttons and Reset. */
export function wireClock() {
  for (const button of document.querySelectorAll('[data-advance]')) {
    button.addEventListener('click', () => {
      // What start-session printed belongs to the time it was clicked at.
      ui.terminal = {};
      act(button, () => post('/sandbox/api/clock', { advanceMs: Number(button.dataset.advance) }));
    });
  }

  $('reset').addEventListener('click', (event) => {
    if (!window.confirm('Forget every grant, message, policy and session, and go back to real time?')) return;
    ui.seen = {};
    localStorage.removeItem(SEEN_KEY);
    ui.terminal = {};
    ui.thread = null;
    act(event.currentTarget, () => post('/sandbox/api/reset', {}));
  });
}
