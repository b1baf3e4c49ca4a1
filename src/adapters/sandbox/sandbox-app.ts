import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Config } from '../../config/types';
import { principalOfUser } from '../../domain/person';
import type { Principal } from '../../domain/principal';
import { SESSION_DOCUMENTS } from '../../domain/target';
import type { Logger } from '../../ports/logger';
import { jumpClock } from './clock-jump';
import type { FakeSlackApi } from './fake-slack-api';
import { type Json, readJson, sendJson } from './json-http';
import { PAGE_FILES, servePage } from './page-files';
import { crossOriginProblem, isLoopbackHost, RequestRefused, tokenMatches } from './request-guard';
import type { SandboxClock } from './sandbox-clock';
import { sandboxNames, sandboxWorkspace } from './sandbox-workspace';
import { type SandboxSessionEvent, startSessionEvent } from './session-event';
import { sessionOwner } from './simulated-iam-evaluator';
import type { SimulatedOrganisation } from './simulated-places';
import { createSlackDriver, SLACKBOT } from './slack-driver';

/** The longest jump the clock control accepts: a week covers every duration, warning, lapse and digest. */
const MAX_CLOCK_STEP_MS = 7 * 24 * 60 * 60_000;
/** The header the page sends its token in: a custom header, which no other origin can send without a preflight. */
export const PAGE_TOKEN_HEADER = 'x-keyturn-page-token';

export interface SandboxAppOptions {
  config: Config;
  slack: FakeSlackApi;
  /** The simulated AWS accounts and regions the fleet's nodes are in. */
  aws: SimulatedOrganisation;
  clock: SandboxClock;
  /** This server's own base URL: the page's requests go to `<botUrl>/slack/events` over loopback. */
  botUrl: () => string;
  signingSecret: string;
  /**
   * A secret made per process: served in the page (index.html) and required in the
   * `x-keyturn-page-token` header of every API request, so only the page this server served can act.
   */
  pageToken: string;
  /** Slash commands the app defines (slack-app-manifest.yml); anything else is "not a valid command". */
  commands: readonly string[];
  /** Resolves when the bot's queued work is done, so an answer to the page already shows its effect. */
  settle(): Promise<void>;
  /** Runs after the clock moved from `from` to `to`: the sweep (expiry, warnings, lapses) and anything else now due. */
  afterClockMove(moved: { from: Date; to: Date }): Promise<void>;
  /** The next moment after `after` at which a schedule has work; a clock jump stops there on its way. */
  nextDue?(after: Date): Promise<Date | undefined>;
  /** Forgets every grant, message, policy and session, and puts the clock back to real time. */
  reset(): Promise<void>;
  /** Told of each simulated session start, as the session-events function is by EventBridge on AWS. */
  onSessionEvent?: (event: SandboxSessionEvent) => Promise<void>;
  /** Called after anything the page did, so the caller can save the sandbox's state. */
  onChange?: () => void;
  logger: Logger;
}

/**
 * The sandbox page and its JSON API. Everything a person does on the page reaches the bot as Slack
 * would send it: a signed HTTP request to `/slack/events` on this same server, over loopback. The
 * bot answers through the sandbox's Slack Web API (FakeSlackApi), which is what the page shows.
 * Returns a request handler that answers true when it handled the request.
 */
export function createSandboxApp(
  opts: SandboxAppOptions,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  const workspace = sandboxWorkspace(opts.config);
  const names: Record<string, string> = { ...sandboxNames(opts.config), [SLACKBOT]: 'Slackbot' };
  const people = new Set(workspace.people.map((p) => p.id));
  const slack = createSlackDriver({ ...opts, workspace, names });
  const { requirePerson } = slack;

  const principalOf = (user: string): Principal => {
    const principal = principalOfUser(opts.config.people, user);
    if (!principal) throw new RequestRefused(403, `${names[user] ?? user} is not mapped to an AWS principal`);
    return principal;
  };

  // ---- routes ----------------------------------------------------------------------------------

  async function state(user: string): Promise<Json> {
    const principal = principalOfUser(opts.config.people, user);
    const now = opts.clock.now();
    const nodes = await Promise.all(
      opts.config.sandbox.fleet.map(async (node) => {
        const place = opts.aws.placeOfNode(node.id);
        return {
          id: node.id,
          name: node.name,
          tags: node.tags,
          ping: node.ping,
          // Where the node is: its account (alias when configured) and region.
          account: place?.accountId ?? '',
          region: place?.region ?? '',
          where: place ? opts.aws.describe(place) : '',
          // A target reaches the nodes with its tags in its own account and region only.
          targets: Object.values(opts.config.targets)
            .filter(
              (t) =>
                t.account === place?.accountId &&
                t.region === place.region &&
                Object.entries(t.tags).every(([k, v]) => node.tags[k] === v),
            )
            .map((t) => t.name),
          // What IAM in the node's account would answer this person right now, from the policies attached there.
          decision: principal ? await opts.aws.evaluate(principal, node.id, now.toISOString()) : 'denied',
          // Who IAM says is asking there: an access role is the person's own in each account.
          ...(principal?.kind === 'access-role' &&
            place && {
              caller: sessionOwner(
                { partition: opts.config.aws.partition, accountId: place.accountId },
                principal,
              ),
            }),
        };
      }),
    );
    const modal = slack.openModal(user);
    return {
      now: now.toISOString(),
      offsetMs: opts.clock.offsetMs,
      me: user,
      dm: opts.slack.dmChannelOf(user),
      people: workspace.people,
      channels: workspace.channels,
      names,
      commands: opts.commands,
      targets: Object.values(opts.config.targets).map((t) => ({
        name: t.name,
        description: t.description,
        where: opts.aws.describe({ accountId: t.account, region: t.region }),
      })),
      snippets: Object.values(opts.config.snippets).map((s) => ({
        name: s.name,
        description: s.description,
        targets: s.targets,
      })),
      messages: slack.visibleMessages(user),
      modal: modal ? { id: modal.id, view: modal.view } : null,
      // The person's Home tab as Keyturn last published it (views.publish), or null before it did.
      home: opts.slack.homes.get(user) ?? null,
      nodes,
      sessions: (principal ? opts.aws.openSessionsOf(principal) : []).map((s) => ({
        ...s,
        where: opts.aws.describe(s),
      })),
      // Keyturn's own account and region, then every account it serves with its regions.
      region: opts.config.aws.region,
      account: opts.config.aws.accountId,
      accounts: Object.values(opts.config.aws.accounts).map((a) => ({
        accountId: a.accountId,
        ...(a.alias !== undefined && { alias: a.alias }),
        regions: a.regions,
        home: a.accountId === opts.config.aws.accountId,
      })),
    };
  }

  async function startSession(body: Json): Promise<Json> {
    const user = requirePerson(body);
    const principal = principalOf(user);
    const nodeId = typeof body.nodeId === 'string' ? body.nodeId : '';
    const kind = body.document === 'ssh' || body.document === 'port-forward' ? body.document : 'shell';
    const outcome = await opts.aws.startSession(principal, nodeId, SESSION_DOCUMENTS[kind]);
    if (!outcome.ok) return { ok: false, reason: outcome.reason };
    const place = opts.aws.placeOfNode(nodeId);
    // A session started is on a known node, so `place` is set; CloudTrail records it in that account and region.
    if (place)
      await opts.onSessionEvent?.(startSessionEvent(outcome.session, place, opts.clock.now().toISOString()));
    await opts.settle();
    return { ok: true, session: outcome.session };
  }

  async function exitSession(body: Json): Promise<Json> {
    const user = requirePerson(body);
    const principal = principalOf(user);
    const id = typeof body.sessionId === 'string' ? body.sessionId : '';
    if (!opts.aws.openSessionsOf(principal).some((s) => s.id === id))
      throw new RequestRefused(404, 'no such open session of yours');
    // Typing `exit` makes no API call, so CloudTrail says nothing (FACTS.md): only DescribeSessions can tell.
    opts.aws.exitSession(id);
    return { ok: true };
  }

  async function moveClock(body: Json): Promise<Json> {
    const ms = typeof body.advanceMs === 'number' ? body.advanceMs : Number.NaN;
    if (!Number.isFinite(ms) || ms <= 0 || ms > MAX_CLOCK_STEP_MS)
      throw new RequestRefused(400, 'advanceMs must be a positive number of milliseconds, at most a week');
    await jumpClock(opts.clock, ms, opts);
    return { ok: true, now: opts.clock.now().toISOString(), offsetMs: opts.clock.offsetMs };
  }

  async function reset(): Promise<Json> {
    await opts.reset();
    slack.forget();
    return { ok: true };
  }

  const posts: Record<string, (body: Json) => Promise<Json> | Json> = {
    ...slack.posts,
    '/sandbox/api/session/start': startSession,
    '/sandbox/api/session/exit': exitSession,
    '/sandbox/api/clock': moveClock,
    '/sandbox/api/reset': reset,
  };

  async function dispatch(
    req: IncomingMessage,
    res: ServerResponse,
    pathname: string,
    query: URLSearchParams,
  ) {
    if (req.method === 'GET' && PAGE_FILES[pathname])
      return servePage(res, PAGE_FILES[pathname], opts.pageToken);
    const responseToken = /^\/sandbox\/response\/([0-9a-f]+)$/.exec(pathname)?.[1];
    const crossOrigin = crossOriginProblem(req);
    if (crossOrigin) throw new RequestRefused(403, crossOrigin);
    if (req.method === 'POST' && responseToken) {
      // The bot posts to its response_url with JSON (Bolt's respond()); the random path is its token.
      return sendJson(res, 200, slack.response(responseToken, await readJson(req)));
    }
    if (!tokenMatches(req.headers[PAGE_TOKEN_HEADER], opts.pageToken))
      throw new RequestRefused(
        403,
        `missing or wrong ${PAGE_TOKEN_HEADER}: only the page this sandbox served may use its API (reload it)`,
      );
    if (req.method === 'GET' && pathname === '/sandbox/api/state') {
      // Nobody picked yet: the first person in the config.
      const user = query.get('user') || (workspace.people[0]?.id ?? '');
      if (!people.has(user)) throw new RequestRefused(400, `unknown person ${JSON.stringify(user)}`);
      return sendJson(res, 200, await state(user));
    }
    const handler = req.method === 'POST' ? posts[pathname] : undefined;
    if (!handler) throw new RequestRefused(404, 'not found');
    const answer = await handler(await readJson(req));
    opts.onChange?.();
    return sendJson(res, 200, answer);
  }

  return (req, res) => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://sandbox.invalid');
    } catch {
      // `//[` and the like: no URL this page serves, so not the sandbox's to answer.
      return false;
    }
    const pathname = url.pathname;
    if (
      !(pathname in PAGE_FILES) &&
      !pathname.startsWith('/sandbox/api/') &&
      !pathname.startsWith('/sandbox/response/')
    )
      return false;
    if (!isLoopbackHost(req.headers.host)) {
      // Another name for 127.0.0.1 (DNS rebinding) must not let a web page act as a sandbox user.
      sendJson(res, 403, { ok: false, error: 'the sandbox answers only on localhost' });
      return true;
    }
    dispatch(req, res, pathname, url.searchParams).catch((error: unknown) => {
      const status = error instanceof RequestRefused ? error.status : 500;
      // The rest of an oversize body is never read: close the connection rather than drain it.
      if (status === 413) res.setHeader('connection', 'close');
      if (status === 500)
        opts.logger.error({ err: (error as Error).message, path: pathname }, 'sandbox request failed');
      sendJson(res, status, { ok: false, error: (error as Error).message });
    });
    return true;
  };
}
