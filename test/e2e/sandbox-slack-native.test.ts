import { copyFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import type { RunningKeyturn } from '../../src/main/server';
import { openSandbox, REPO, type SandboxPage } from './sandbox-page';

jest.setTimeout(90_000);

/** Issue 15: the request form, the run form, App Home and the audit trail, through the page. */
describe('Slack-native Keyturn, through the page', () => {
  let keyturn: RunningKeyturn;
  let browser: Browser;
  let ui: SandboxPage;

  beforeAll(async () => {
    ({ keyturn, browser, ui } = await openSandbox('native-', (page) => {
      // The Revoke button asks first, as Slack's confirm dialog does.
      page.on('dialog', (dialog) => void dialog.accept());
    }));
  });

  afterAll(async () => {
    await browser?.close();
    await keyturn?.close();
  });

  const modal = () => ui.page.getByRole('dialog');
  /** A screenshot, also copied to docs/ on request (KEYTURN_UPDATE_SCREENSHOT=1), so a run never dirties the tree. */
  const docShot = async (name: string) => {
    const file = await ui.screenshot(name);
    if (process.env.KEYTURN_UPDATE_SCREENSHOT) {
      expect(statSync(file).size).toBeLessThan(250_000);
      copyFileSync(file, path.join(REPO, 'docs', `${name}.png`));
    }
  };
  const openHome = async () => {
    await ui.page.locator('#dm-list button').filter({ hasText: 'Home' }).click();
    await ui.page.locator('.home-tab .block-header').first().waitFor();
  };

  it('a bare /access opens the request form; a duration over the target’s limit is answered on the field', async () => {
    await ui.as('U0ALICE');
    await ui.open('ops');
    await ui.type('/access');
    await modal().waitFor();
    expect(await modal().locator('#modal-title').textContent()).toBe('Request access');
    const target = modal().getByLabel('Target');
    expect(await target.locator('option').allTextContents()).toContain(
      'prod-raspi (123456789012, ap-northeast-1) — Production Raspberry Pi fleet · default 1h, up to 4h',
    );
    expect(await modal().getByLabel('Duration').inputValue()).toBe('default');
    await target.selectOption('staging-web');
    await modal().getByLabel('Duration').selectOption('4h');
    await modal().getByLabel('Reason').fill('replace sensor on line 3');
    await ui.screenshot('request-form');

    await modal().getByRole('button', { name: 'Request' }).click();
    const error = modal().locator('.input-error');
    await error.waitFor();
    expect(await error.textContent()).toBe('staging-web allows at most 2h; pick 2h or less.');
    await docShot('request-form-error');

    await target.selectOption('prod-raspi');
    await modal().getByLabel('Duration').selectOption('default');
    await modal().getByRole('button', { name: 'Request' }).click();
    await modal().locator('#modal-title').filter({ hasText: 'Request sent' }).waitFor();
    expect(await modal().textContent()).toMatch(/Request .+ sent to/);
    await ui.screenshot('request-sent');
    await modal().locator('#modal-close').click();
    await modal().waitFor({ state: 'hidden' });
  });

  it('the approver’s Home tab lists the request with [Approve] [Deny]; approving there moves it to [Revoke]', async () => {
    await ui.as('U0CAROL');
    await openHome();
    const home = ui.page.locator('.home-tab');
    await home.getByText('asks for').waitFor();
    expect(await home.textContent()).toContain('replace sensor on line 3');
    await docShot('home-approver-waiting');
    await home.getByRole('button', { name: 'Approve' }).click();
    await home.getByRole('button', { name: 'Revoke' }).waitFor();
    expect(await home.textContent()).toContain('No request is waiting for you.');
    await ui.screenshot('home-approver-active');
  });

  it('the requester’s Home tab shows the active grant: expiry, nodes, [I’m done] [Extend]', async () => {
    await ui.as('U0ALICE');
    await openHome();
    const home = ui.page.locator('.home-tab');
    await home.getByRole('button', { name: "I'm done" }).waitFor();
    const buttons = await home.locator('.block-actions button').allTextContents();
    expect(buttons).toEqual(["I'm done", 'Extend']);
    expect(await home.textContent()).toMatch(/until .*Nodes: raspi-line-1/s);
    await docShot('home-requester');
  });

  it('a bare /run opens the run form: a snippet on a target, then its parameters with defaults', async () => {
    await ui.as('U0DAVE');
    await ui.open('ops');
    await ui.type('/run');
    await modal().waitFor();
    await modal().getByLabel('Snippet and target').selectOption('prod-raspi logs');
    await ui.screenshot('run-form');
    await modal().getByRole('button', { name: 'Next' }).click();
    await modal().locator('#modal-title').filter({ hasText: 'Run logs' }).waitFor();
    expect(await modal().getByLabel('lines').inputValue()).toBe('100');
    await modal().getByLabel('service').fill('ssh; reboot');
    await modal().getByRole('button', { name: 'Run' }).click();
    await modal().locator('.input-error').waitFor();
    expect(await modal().locator('.input-error').textContent()).toContain('does not match its pattern');
    await docShot('run-form-params-error');
    await modal().getByLabel('service').fill('ssh');
    await modal().getByRole('button', { name: 'Run' }).click();
    await modal().locator('#modal-title').filter({ hasText: 'Run started' }).waitFor();
    await modal().locator('#modal-close').click();
    await ui.message(/logs.*prod-raspi/);
  });

  it('the audit channel has one line per move and run, each linking to its thread', async () => {
    await ui.as('U0CAROL');
    await ui.open('ops-audit');
    await ui.message('requested access to prod-raspi');
    await ui.message('Approved by @carol');
    // The sandbox serves two accounts, so every line says where: the home account has no alias.
    await ui.message(/access to prod-raspi in 123456789012, ap-northeast-1 is active until/);
    await ui.message(/Run sent: logs on prod-raspi/);
    await ui.message(/Run finished: logs on prod-raspi/);
    // Emoji show as symbols any font has, never as raw :shortcodes:.
    expect(await ui.page.locator('#messages').textContent()).not.toMatch(/:[a-z_]+:/);
    const links = ui.page.locator('#messages .message a', { hasText: 'thread' });
    expect(await links.count()).toBeGreaterThanOrEqual(5);
    await docShot('audit-trail');

    // A line's link opens the request's thread, where its card is.
    await links.first().click();
    await ui.page.locator('#channel-title').filter({ hasText: 'ops-approvals' }).waitFor();
    await ui.page.locator('#thread').waitFor();
    expect(await ui.page.locator('#thread-messages').textContent()).toContain('replace sensor on line 3');
  });

  it('read channels stay read after a reload, as Slack keeps read state', async () => {
    const badge = (name: string) =>
      ui.page
        .locator('#channel-list button')
        .filter({ hasText: `# ${name}` })
        .locator('.badge');
    await ui.open('ops-audit');
    expect(await badge('ops-audit').count()).toBe(0);
    await ui.open('ops');
    await ui.page.reload();
    await ui.page.locator('#channel-list button').first().waitFor();
    await ui.as('U0CAROL');
    expect(await badge('ops-audit').count()).toBe(0);
  });

  it('at 1024 px the top bar stays one line, and an AWS error is shown whole', async () => {
    await ui.page.setViewportSize({ width: 1024, height: 768 });
    const bar = await ui.page.locator('.topbar').boundingBox();
    expect(bar?.height).toBeLessThan(60);
    await ui.screenshot('narrow-1024');
    await ui.as('U0BOB');
    const output = await ui.startSession('i-0123456789abcdef0');
    expect(output).toContain('AccessDeniedException');
    const box = ui.node('i-0123456789abcdef0').locator('.terminal');
    const { scrollHeight, clientHeight } = await box.evaluate((e) => ({
      scrollHeight: e.scrollHeight,
      clientHeight: e.clientHeight,
    }));
    expect(scrollHeight).toBeLessThanOrEqual(clientHeight + 1);
    await ui.page.setViewportSize({ width: 1440, height: 900 });
  });
});
