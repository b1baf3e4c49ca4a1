import { copyFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import type { RunningKeyturn } from '../../src/main/server';
import { ARTIFACTS, BROWSER_TIME_ZONE, openSandbox, REPO, SandboxPage } from './sandbox-page';

const RASPI_1 = 'mi-0a1b2c3d4e5f60001';
const RASPI_2 = 'mi-0a1b2c3d4e5f60002';
const WEB_1 = 'i-0123456789abcdef0';
// The factory line: in keyturn.example.yml's member account, in another region.
const FACTORY_PI_1 = 'mi-0f1e2d3c4b5a60001';
const FACTORY_PI_2 = 'mi-0f1e2d3c4b5a60002';
const HOME = '123456789012, ap-northeast-1';
const FACTORY = 'factory (444455556666), eu-central-1';

// A browser, a server and a few sweeps: well past jest's 5 s default (a project option cannot set it).
jest.setTimeout(60_000);

/**
 * The story the README tells, played through the sandbox page in Chromium: every step is a click
 * or a typed command on the page, which reaches the bot as a signed Slack request. The steps share
 * one page and run in order; each leaves a screenshot in test/e2e/artifacts/.
 */
describe('the sandbox story, through the page', () => {
  let keyturn: RunningKeyturn;
  let browser: Browser;
  let ui: SandboxPage;
  let grantId = '';
  /** Requests the page made to anything but this server, and errors thrown in the page: both must stay empty. */
  const elsewhere: string[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    ({ keyturn, browser, ui } = await openSandbox('story-', async (page, origin) => {
      // The page must work with nothing beyond this server: any other request fails the story.
      await page.route('**/*', (route) => {
        if (new URL(route.request().url()).origin === origin) return route.continue();
        elsewhere.push(route.request().url());
        return route.abort();
      });
      page.on('pageerror', (error) => pageErrors.push(error.message));
    }));
  });

  afterEach(() => {
    expect(elsewhere).toEqual([]);
    expect(pageErrors).toEqual([]);
  });

  afterAll(async () => {
    await browser?.close();
    await keyturn?.close();
  });

  it('alice starts with no access: IAM denies her on every node', async () => {
    await ui.as('U0ALICE');
    await ui.open('ops');
    expect(await ui.decisionOn(RASPI_1)).toBe('denied');
    expect(await ui.decisionOn(WEB_1)).toBe('denied');
    expect(await ui.decisionOn(FACTORY_PI_1)).toBe('denied');
    // The organisation: Keyturn's own account in Tokyo, and the factory's member account in Frankfurt.
    expect(await ui.places()).toEqual([HOME, FACTORY]);
    expect(await ui.whereIs(RASPI_1)).toBe(HOME);
    expect(await ui.whereIs(FACTORY_PI_1)).toBe(FACTORY);
    const out = await ui.startSession(RASPI_1);
    expect(out).toContain('AccessDeniedException');
    expect(out).toContain(
      // She acts through her access role (keyturn.example.yml maps her IAM user to it).
      `arn:aws:sts::123456789012:assumed-role/keyturn-u0alice/alice is not authorized to perform: ssm:StartSession`,
    );
    await ui.screenshot('alice-denied');
  });

  it('alice asks for prod-raspi for an hour and only she sees the acknowledgement', async () => {
    await ui.type('/access prod-raspi 1h replace sensor on line 3');
    const reply = await ui.message('sent to');
    expect(await reply.textContent()).toContain('Only visible to you');
    expect(await reply.textContent()).toContain('#ops-approvals');
    grantId = /Request\s*([a-z0-9]+)\s*sent/.exec((await reply.textContent()) ?? '')?.[1] ?? '';
    expect(grantId).not.toBe('');

    await ui.open('ops-approvals');
    const card = await ui.message(`Access request ${grantId}`);
    const text = (await card.textContent()) ?? '';
    expect(text).toContain('@alice');
    expect(text).toContain('replace sensor on line 3');
    expect(text).toContain('4 nodes (1 offline)');
    expect(text).toContain('Pending: 0 of 1 approval');
    await ui.screenshot('request-card');
  });

  it('bob is not an approver: his click is refused, privately, and changes nothing', async () => {
    await ui.as('U0BOB');
    await ui.open('ops');
    // The ephemeral acknowledgement was alice's alone.
    expect(await ui.page.locator('#messages .message').filter({ hasText: grantId }).count()).toBe(0);
    await ui.open('ops-approvals');
    const card = await ui.message(`Access request ${grantId}`);
    await card.getByRole('button', { name: 'Approve' }).click();
    const refusal = await ui.message('Only the approvers of prod-raspi');
    expect(await refusal.textContent()).toContain('Only visible to you');
    expect(await card.textContent()).toContain('Pending: 0 of 1 approval');
    await ui.screenshot('bob-refused');
  });

  it('carol approves: the card updates in place and the grant becomes active', async () => {
    await ui.as('U0CAROL');
    await ui.open('ops-approvals');
    // Bob's refusal was his alone.
    expect(
      await ui.page.locator('#messages .message').filter({ hasText: 'Only the approvers' }).count(),
    ).toBe(0);
    const card = await ui.message(`Access request ${grantId}`);
    await card.getByRole('button', { name: 'Approve' }).click();
    await ui.page
      .locator('#messages .message')
      .filter({ hasText: `Access request ${grantId}` })
      .filter({ hasText: 'Active until' })
      .waitFor();
    expect(await card.getByRole('button', { name: 'Approve' }).count()).toBe(0);
    expect(await card.textContent()).toContain('approved by @carol');
    await ui.screenshot('carol-approved');
  });

  it('alice gets a DM with the expiry in her own time zone, and IAM now allows prod-raspi only', async () => {
    await ui.as('U0ALICE');
    await ui.open('keyturn');
    const ready = await ui.message('is ready');
    const text = (await ready.textContent()) ?? '';
    expect(text).toContain('role_arn = arn:aws:iam::123456789012:role/keyturn/people/keyturn-u0alice');
    expect(text).toContain(`aws ssm start-session --profile keyturn --target ${RASPI_1}`);
    const grant = await keyturn.deps.grants.get(grantId);
    const expiresAt = new Date(grant?.expiresAt ?? '');
    // <!date^…^{date_short_pretty} at {time}|…> rendered by the browser in its zone, not the server's.
    const time = new Intl.DateTimeFormat('en-US', {
      hour: 'numeric',
      minute: '2-digit',
      timeZone: BROWSER_TIME_ZONE,
    }).format(expiresAt);
    expect(text).toContain(`until today at ${time}`);
    expect(text).not.toContain('<!date');

    await ui.waitForDecision(RASPI_1, 'allowed');
    expect(await ui.decisionOn(RASPI_2)).toBe('allowed');
    expect(await ui.decisionOn(WEB_1)).toBe('denied');
    const session = await ui.startSession(RASPI_1);
    expect(session).toMatch(/Starting session with SessionId: alice-[0-9a-f]+/);
    expect(await ui.startSession(WEB_1)).toContain('AccessDeniedException');
    await ui.page.locator('#sessions [data-session-id]').first().waitFor();
    await ui.screenshot('alice-allowed');
    // The README's picture, at 0.75 scale so docs/sandbox.png stays under 150 KB. It is copied there only
    // on request (KEYTURN_UPDATE_SCREENSHOT=1), so a test run never dirties the tree.
    const small = new SandboxPage(
      await browser.newPage({
        viewport: { width: 1280, height: 800 },
        deviceScaleFactor: 0.75,
        timezoneId: BROWSER_TIME_ZONE,
        locale: 'en-US',
      }),
    );
    await small.page.goto(ui.page.url());
    await small.as('U0ALICE');
    await small.open('ops-approvals');
    await small.message('Active until');
    await small.page.locator('#sessions [data-session-id]').first().waitFor();
    const readme = path.join(ARTIFACTS, 'story-readme.png');
    await small.page.screenshot({ path: readme });
    await small.page.close();
    if (process.env.KEYTURN_UPDATE_SCREENSHOT) {
      expect(statSync(readme).size).toBeLessThan(150_000);
      copyFileSync(readme, path.join(REPO, 'docs', 'sandbox.png'));
    }
  });

  it('a Run Command snippet posts its output per node in a thread, marked as simulated', async () => {
    await ui.open('ops');
    await ui.type('/run prod-raspi disk');
    const parent = await ui.message(/Finished\s*disk\s*on prod-raspi/);
    expect(await parent.textContent()).toContain('simulated');
    const thread = await ui.openThread(parent);
    const online = await ui.reply('raspi-line-1');
    expect(await online.textContent()).toContain('simulated');
    // The node whose agent is not connected is reported, not silently left out.
    expect(await (await ui.reply('raspi-line-3')).textContent()).toMatch(/undeliverable|not connected/i);
    expect(await thread.locator('.message').count()).toBeGreaterThanOrEqual(5);
    await ui.screenshot('run-command');
    await ui.page.locator('#thread-close').click();
  });

  it('near the end alice is warned with Extend and I’m done; at expiry access ends and her session with it', async () => {
    await ui.open('keyturn');
    for (let i = 0; i < 5; i++) await ui.moveClock('+10 min');
    const warning = await ui.message(/Your access to prod-raspi .* ends/);
    expect(await warning.getByRole('button', { name: 'Extend' }).count()).toBe(1);
    expect(
      await warning
        .getByRole('button', { name: 'I’m done' })
        .or(warning.getByRole('button', { name: "I'm done" }))
        .count(),
    ).toBe(1);
    expect(await ui.decisionOn(RASPI_1)).toBe('allowed');
    await ui.screenshot('warning');

    await ui.moveClock('+10 min');
    const ended = await ui.message(/Your access to prod-raspi .* expired/);
    expect(await ended.textContent()).toContain('1 open session was ended');
    await ui.waitForDecision(RASPI_1, 'denied');
    expect(await ui.startSession(RASPI_1)).toContain('AccessDeniedException');
    expect(await ui.page.locator('#sessions [data-session-id]').count()).toBe(0);

    await ui.open('ops-approvals');
    const card = await ui.message(`Access request ${grantId}`);
    expect(await card.textContent()).toMatch(/Expired (?!at )\S.* at .* — 1 session ended/);
    await ui.screenshot('expired');
  });

  it('the request’s thread tells when the session started and sums it up when it ended', async () => {
    const card = await ui.message(`Access request ${grantId}`);
    await ui.openThread(card);
    expect(await (await ui.reply('opened a shell on raspi-line-1')).textContent()).toContain('@alice');
    const summary = await ui.reply(/Shell of @alice on raspi-line-1.* ended/);
    expect(await summary.textContent()).toContain('terminated by Keyturn at expiry');
    await ui.screenshot('session-summary');
    await ui.page.locator('#thread-close').click();
  });

  it('the daily digest posts in the audit channel once its time has passed on the sandbox clock', async () => {
    await ui.open('ops-audit');
    // The digest covers the previous local day in digest.timezone: at most two jumps past 09:00 Tokyo.
    const digests = ui.page.locator('#messages .message').filter({ hasText: 'Keyturn digest' });
    const withStory = digests.filter({ hasText: /Requests:\s*1/ });
    // The sandbox skips empty days' digests, so a jump may post none (issue 15).
    for (let day = 0; day < 3 && (await withStory.count()) === 0; day++) {
      await ui.moveClock('+1 day');
      await withStory.waitFor({ timeout: 3_000 }).catch(() => undefined);
    }
    expect(await digests.count()).toBe(1);
    const digest = await ui.message(/Keyturn digest[\s\S]*Requests:\s*1/);
    const text = (await digest.textContent()) ?? '';
    expect(text).toMatch(/Sessions:\s*1/);
    expect(text).toMatch(/Run Command:\s*1 run/);
    await ui.screenshot('digest');
  });

  it('in the member account and another region: alice asks for factory-pi, carol approves, and IAM there allows the factory line only', async () => {
    await ui.as('U0ALICE');
    await ui.open('ops');
    const acks = ui.page.locator('#messages .message').filter({ hasText: /Request\s*[a-z0-9]+\s*sent/ });
    const earlier = await acks.count();
    await ui.type('/access factory-pi 1h recalibrate the Frankfurt line');
    // The ops channel still shows the prod-raspi acknowledgement: this one is the next.
    const reply = acks.nth(earlier);
    await reply.waitFor();
    const factoryGrant = /Request\s*([a-z0-9]+)\s*sent/.exec((await reply.textContent()) ?? '')?.[1] ?? '';
    expect(factoryGrant).not.toBe('');

    await ui.as('U0CAROL');
    await ui.open('ops-approvals');
    const card = await ui.message(`Access request ${factoryGrant}`);
    expect(await card.textContent()).toContain('factory-pi');
    await card.getByRole('button', { name: 'Approve' }).click();
    await ui.page
      .locator('#messages .message')
      .filter({ hasText: `Access request ${factoryGrant}` })
      .filter({ hasText: 'Active until' })
      .waitFor();
    const grant = await keyturn.deps.grants.get(factoryGrant);
    expect(grant).toMatchObject({ status: 'active', account: '444455556666', region: 'eu-central-1' });

    await ui.as('U0ALICE');
    await ui.open('keyturn');
    await ui.message(/factory-pi.*is ready/);
    await ui.waitForDecision(FACTORY_PI_1, 'allowed');
    expect(await ui.decisionOn(FACTORY_PI_2)).toBe('allowed');
    // The grant is in the factory's account: nothing in Keyturn's own account allows her anything.
    expect(await ui.decisionOn(RASPI_1)).toBe('denied');
    expect(await ui.decisionOn(WEB_1)).toBe('denied');
    const session = await ui.startSession(FACTORY_PI_2);
    expect(session).toContain('--region eu-central-1');
    expect(session).toMatch(/Starting session with SessionId: alice-[0-9a-f]+/);
    const open = ui.page.locator('#sessions [data-session-id]').filter({ hasText: 'factory-pi-2' });
    await open.waitFor();
    expect(await open.textContent()).toContain(FACTORY);
    await ui.screenshot('factory-allowed');
  });
});
