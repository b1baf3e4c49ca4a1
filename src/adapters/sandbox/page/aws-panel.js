// The simulated AWS organisation: its accounts and regions, what IAM in each node's account answers the
// picked person for that node right now, the Start session button (with the CLI's own errors), and their
// open sessions, each with where it is.
import { act, post } from './api.js';
import { timeFormat } from './dates.js';
import { $, el, ui } from './ui.js';

/** The node's ARN in its own account and region. */
export function nodeArn(node) {
  const kind = node.id.startsWith('mi-') ? 'ssm' : 'ec2';
  const type = node.id.startsWith('mi-') ? 'managed-instance' : 'instance';
  return `arn:aws:${kind}:${node.region}:${node.account}:${type}/${node.id}`;
}

/** `$ aws ssm start-session …` as typed for a node: in the node's own region. */
function startCommand(node) {
  return `$ aws ssm start-session --region ${node.region} --target ${node.id}`;
}

export function cliError(state, node, reason) {
  const who = state.people.find((p) => p.id === ui.me);
  // The caller as IAM names it in the node's account (their access role there), else their own identity.
  const caller = node.caller ?? who?.arn ?? '';
  if (reason === 'access-denied')
    return `An error occurred (AccessDeniedException) when calling the StartSession operation: User: ${caller} is not authorized to perform: ssm:StartSession on resource: ${nodeArn(node)} because no identity-based policy allows the ssm:StartSession action`;
  if (reason === 'target-not-connected')
    return `An error occurred (TargetNotConnected) when calling the StartSession operation: ${node.id} is not connected.`;
  return `An error occurred (${reason}) when calling the StartSession operation.`;
}

export function renderAccount(state) {
  const me = state.people.find((p) => p.id === ui.me);
  $('account-id').textContent = (state.accounts || [])
    .map(
      (a) =>
        `${a.home ? "Keyturn's account" : 'Member account'} ${a.alias ? `${a.alias} (${a.accountId})` : a.accountId} · ${a.regions.join(', ')}`,
    )
    .join('; ');
  $('account-who').textContent = me?.principal
    ? `What IAM in each node's account answers ${me.name} (${me.principal}) for ssm:StartSession right now, from the policies attached there:`
    : `${me ? me.name : ui.me} is not mapped to an AWS principal: Keyturn refuses their requests.`;
  const nodes = $('nodes');
  nodes.textContent = '';
  let where;
  for (const node of state.nodes) {
    // The fleet is listed place by place, in config order: a heading wherever the place changes.
    if (node.where !== where) {
      where = node.where;
      const heading = el('li', 'place', where);
      heading.dataset.account = node.account;
      heading.dataset.region = node.region;
      nodes.append(heading);
    }
    const li = el('li', 'node');
    li.dataset.nodeId = node.id;
    li.dataset.decision = node.decision;
    li.dataset.where = node.where;
    const top = el('div', 'node-top');
    const ping = el('span', node.ping === 'Online' ? 'ping' : 'ping offline');
    ping.title = node.ping;
    top.append(ping, el('span', 'node-name', node.name));
    top.append(el('span', `decision ${node.decision}`, node.decision));
    li.append(top, el('div', 'mono muted node-id', node.id));
    const meta = el('div', 'node-meta');
    for (const [k, v] of Object.entries(node.tags)) meta.append(el('span', 'tag', `${k}=${v}`));
    if (node.ping !== 'Online') meta.append(el('span', 'tag offline', node.ping));
    li.append(meta);
    const start = el('button', 'tool', 'Start session');
    start.type = 'button';
    start.disabled = !me?.principal;
    start.addEventListener('click', () =>
      act(start, async () => {
        const answer = await post('/sandbox/api/session/start', { user: ui.me, nodeId: node.id });
        ui.terminal[node.id] = answer.ok
          ? {
              text: `${startCommand(node)}\nStarting session with SessionId: ${answer.session.id}`,
              error: false,
            }
          : {
              text: `${startCommand(node)}\n${cliError(state, node, answer.reason)}`,
              error: true,
            };
      }),
    );
    meta.append(start);
    const out = ui.terminal[node.id];
    if (out) li.append(el('pre', out.error ? 'terminal error' : 'terminal', out.text));
    nodes.append(li);
  }

  const sessions = $('sessions');
  sessions.textContent = '';
  if (state.sessions.length === 0) sessions.append(el('li', 'muted small', 'None.'));
  for (const s of state.sessions) {
    const li = el('li', 'session');
    li.dataset.sessionId = s.id;
    const node = state.nodes.find((n) => n.id === s.target);
    li.append(el('div', 'mono', s.id));
    const started = s.startedAt ? timeFormat.format(new Date(s.startedAt)) : '';
    li.append(el('div', 'muted', `${node ? node.name : s.target} · ${s.document || ''} · since ${started}`));
    li.append(el('div', 'muted small', s.where || ''));
    const exit = el('button', 'tool', 'exit');
    exit.type = 'button';
    exit.title = 'Type exit in the session: no API call, so only DescribeSessions notices';
    exit.addEventListener('click', () =>
      act(exit, () => post('/sandbox/api/session/exit', { user: ui.me, sessionId: s.id })),
    );
    li.append(exit);
    sessions.append(li);
  }
}
