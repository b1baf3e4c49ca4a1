import type { Browser } from 'playwright-core';
import type { RunningKeyturn } from '../../src/main/server';
import { openSandbox, type SandboxPage } from './sandbox-page';

jest.setTimeout(60_000);

/** A denial through the page's modal, and what Slack itself says to a mistyped command. */
describe('modals and Slack’s own answers, through the page', () => {
  let keyturn: RunningKeyturn;
  let browser: Browser;
  let ui: SandboxPage;

  beforeAll(async () => {
    ({ keyturn, browser, ui } = await openSandbox('modal-'));
  });

  afterAll(async () => {
    await browser?.close();
    await keyturn?.close();
  });

  it('a mistyped command gets Slack’s answer, from Slackbot, to the typist only', async () => {
    await ui.as('U0ALICE');
    await ui.open('ops');
    await ui.type('/acces staging-web 30m check the deploy');
    const answer = await ui.message('is not a valid command');
    expect(await answer.textContent()).toContain('Slackbot');
    expect(await answer.textContent()).toContain('Only visible to you');
  });

  it('carol denies with a reason typed in the modal; the card and alice’s DM carry it', async () => {
    await ui.type('/access staging-web 30m check the deploy');
    await ui.message('sent to');

    await ui.as('U0CAROL');
    await ui.open('ops-approvals');
    const card = await ui.message('Access request');
    await card.getByRole('button', { name: 'Deny' }).click();
    const modal = ui.page.getByRole('dialog');
    await modal.waitFor();
    expect(await modal.locator('#modal-title').textContent()).toBe('Deny access request');
    await modal.getByLabel('Reason').fill('staging is frozen until Friday');
    await ui.screenshot('deny-modal');
    await modal.getByRole('button', { name: 'Deny' }).click();
    await modal.waitFor({ state: 'hidden' });
    await ui.page.locator('#messages .message').filter({ hasText: 'Denied by' }).waitFor();
    expect(await card.textContent()).toContain('staging is frozen until Friday');

    await ui.as('U0ALICE');
    await ui.open('keyturn');
    const dm = await ui.message('was denied by');
    expect(await dm.textContent()).toContain('@carol');
    expect(await dm.textContent()).toContain('staging is frozen until Friday');
  });
});
