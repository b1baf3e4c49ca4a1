// Dates as Slack shows them: in the reader's time zone, relative to the sandbox clock, and Slack's
// date tokens (<!date^…> and rich_text date elements).
import { sandboxNow } from './ui.js';

export const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
export const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** Year, month, day, weekday in the browser's time zone: Slack shows dates in the reader's zone. */
export function localParts(date) {
  return {
    y: date.getFullYear(),
    m: date.getMonth(),
    d: date.getDate(),
    w: date.getDay(),
  };
}

export function ordinal(n) {
  const rem = n % 100;
  if (rem >= 11 && rem <= 13) return `${n}th`;
  return `${n}${{ 1: 'st', 2: 'nd', 3: 'rd' }[n % 10] || 'th'}`;
}

export const timeFormat = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' });
export const timeSecsFormat = new Intl.DateTimeFormat(undefined, {
  hour: 'numeric',
  minute: '2-digit',
  second: '2-digit',
});
export const fullFormat = new Intl.DateTimeFormat(undefined, {
  dateStyle: 'full',
  timeStyle: 'long',
});
export const relative = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });

export function dayDiff(date, now) {
  const a = localParts(date);
  const b = localParts(now);
  return Math.round((Date.UTC(a.y, a.m, a.d) - Date.UTC(b.y, b.m, b.d)) / 86400000);
}

export function prettyDay(date, fallback) {
  const diff = dayDiff(date, sandboxNow());
  if (diff === 0) return 'today';
  if (diff === 1) return 'tomorrow';
  if (diff === -1) return 'yesterday';
  return fallback;
}

export function ago(date) {
  const seconds = Math.round((date.getTime() - sandboxNow().getTime()) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 60) return relative.format(seconds, 'second');
  if (abs < 3600) return relative.format(Math.round(seconds / 60), 'minute');
  if (abs < 86400) return relative.format(Math.round(seconds / 3600), 'hour');
  return relative.format(Math.round(seconds / 86400), 'day');
}

/** Slack's date tokens (https://docs.slack.dev/messaging/formatting-message-text#date-formatting). */
export function formatSlackDate(date, format) {
  const p = localParts(date);
  const pad = (n) => String(n).padStart(2, '0');
  const base = {
    date_num: `${p.y}-${pad(p.m + 1)}-${pad(p.d)}`,
    date: `${MONTHS[p.m]} ${ordinal(p.d)}, ${p.y}`,
    date_short: `${MONTHS[p.m].slice(0, 3)} ${p.d}, ${p.y}`,
    date_long: `${WEEKDAYS[p.w]}, ${MONTHS[p.m]} ${ordinal(p.d)}, ${p.y}`,
    time: timeFormat.format(date),
    time_secs: timeSecsFormat.format(date),
    ago: ago(date),
  };
  base.date_pretty = prettyDay(date, base.date);
  base.date_short_pretty = prettyDay(date, base.date_short);
  base.date_long_pretty = prettyDay(date, base.date_long);
  return format.replace(/\{(\w+)\}/g, (whole, key) => (key in base ? base[key] : whole));
}
