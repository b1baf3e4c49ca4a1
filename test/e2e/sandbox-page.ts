import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { type Browser, chromium, type Locator, type Page } from 'playwright-core';
import { loadConfig } from '../../src/config/load';
import { type RunningKeyturn, startKeyturn } from '../../src/main/server';
import { silentLogger } from '../support/fakes';

/** Debian's Chromium (`apt-get install chromium`); Playwright's own browser download is never used. */
export const CHROMIUM = process.env.KEYTURN_CHROMIUM ?? '/usr/bin/chromium';
export const ARTIFACTS = path.resolve(__dirname, 'artifacts');
export const REPO = path.resolve(__dirname, '../..');
/** Slack date tokens must show in the reader's zone: the browser runs in one that is not the machine's. */
export const BROWSER_TIME_ZONE = 'Asia/Tokyo';

/**
 * Headless Chromium as this machine runs it: no sandbox (root in CI), and no background networking,
 * which the closed network here would refuse many times over. Playwright gives every launch a fresh,
 * empty profile directory of its own.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Keyturn in sandbox mode and Chromium on its page, for one test file. */
export interface OpenSandbox {
  keyturn: RunningKeyturn;
  browser: Browser;
  ui: SandboxPage;
}

/**
 * Starts Keyturn in sandbox mode with the shipped example config and opens its page in Chromium.
 * `prepare` runs on the page before it loads (routes, dialog and error handlers). `prefix` names this
 * file's screenshots; the ones an earlier run left under it are removed first.
 */
export async function openSandbox(
  prefix: string,
  prepare?: (page: Page, origin: string) => void | Promise<void>,
): Promise<OpenSandbox> {
  // Only this run's pictures: a step that failed early leaves no older picture looking like its own.
  SandboxPage.clearScreenshots(prefix);
  // The shipped example, whatever keyturn.yml the developer has: the tests name its people and nodes.
  const config = loadConfig({
    env: { KEYTURN_CONFIG: path.join(REPO, 'keyturn.example.yml') },
    cwd: REPO,
    log: () => undefined,
  });
  const keyturn = await startKeyturn({
    env: {},
    port: 0,
    config,
    logger: silentLogger,
    // Clock moves on the page run the sweeper; a timer of its own would only race them.
    sweepEveryMs: 0,
  });
  try {
    const browser = await launchChromium();
    const page = await browser.newPage({
      viewport: { width: 1440, height: 900 },
      timezoneId: BROWSER_TIME_ZONE,
      locale: 'en-US',
    });
    const origin = new URL(keyturn.url.replace('127.0.0.1', 'localhost')).origin;
    await prepare?.(page, origin);
    await page.goto(`${origin}/`);
    return { keyturn, browser, ui: new SandboxPage(page, prefix) };
  } catch (error) {
    await keyturn.close();
    throw error;
  }
}

export type Person = 'U0ALICE' | 'U0BOB' | 'U0CAROL' | 'U0DAVE';

/** The sandbox page, driven the way a person would: pick who you are, open a channel, type, click. */
export class SandboxPage {
  private shots = 0;

  /** `prefix` names this test file's screenshots, so files running side by side never clear each other's. */
  constructor(
    readonly page: Page,
    private readonly prefix = '',
  ) {}

  /** Removes this prefix's screenshots from an earlier run, so none looks like this run's. */
  static clearScreenshots(prefix: string): void {
    mkdirSync(ARTIFACTS, { recursive: true });
    for (const file of readdirSync(ARTIFACTS))
      if (file.startsWith(prefix)) rmSync(path.join(ARTIFACTS, file));
  }

  async as(person: Person): Promise<void> {
    await this.page.selectOption('#who', person);
    // The page re-renders from the new person's state: their own row in People says "<name> (you)".
    const name = person.slice(2).toLowerCase();
    await this.page
      .locator('#people-list li.me')
      .filter({ hasText: `${name} (you)` })
      .waitFor();
    await until(async () => (await this.page.locator('#who').inputValue()) === person, `picked ${person}`);
  }

  /** `ops`, `ops-approvals`, `ops-audit`, or `keyturn` for the DM with the bot. */
  async open(channel: string): Promise<void> {
    const list = channel === 'keyturn' ? '#dm-list' : '#channel-list';
    await this.page
      .locator(`${list} button`)
      .filter({ hasText: channel === 'keyturn' ? 'keyturn' : `# ${channel}` })
      .first()
      .click();
    await this.page.locator('#channel-title').filter({ hasText: channel }).waitFor();
  }

  /** Types into the composer and presses Enter, as in Slack. */
  async type(text: string): Promise<void> {
    await this.page.fill('#composer-input', text);
    await this.page.press('#composer-input', 'Enter');
  }

  /** The newest message in the open channel containing `text`, once it is there. */
  async message(text: string | RegExp): Promise<Locator> {
    const found = this.page.locator('#messages .message').filter({ hasText: text }).last();
    await found.waitFor();
    return found;
  }

  node(id: string): Locator {
    return this.page.locator(`#nodes [data-node-id="${id}"]`);
  }

  /** Where the account panel says the node is: `factory (444455556666), eu-central-1`. */
  async whereIs(id: string): Promise<string | null> {
    return this.node(id).getAttribute('data-where');
  }

  /** The account panel's place headings, in order: the fleet is listed account by account, region by region. */
  async places(): Promise<string[]> {
    return this.page.locator('#nodes li.place').allTextContents();
  }

  async decisionOn(id: string): Promise<string | null> {
    return this.node(id).getAttribute('data-decision');
  }

  /** Waits until the account panel says `decision` for the node (the page polls once a second). */
  async waitForDecision(id: string, decision: 'allowed' | 'denied'): Promise<void> {
    await this.page.locator(`#nodes [data-node-id="${id}"][data-decision="${decision}"]`).waitFor();
  }

  /** Clicks Start session on a node and returns what the simulated `aws ssm start-session` printed. */
  async startSession(id: string): Promise<string> {
    const node = this.node(id);
    await node.getByRole('button', { name: 'Start session' }).click();
    const terminal = node.locator('.terminal');
    await terminal.waitFor();
    return (await terminal.textContent()) ?? '';
  }

  async moveClock(label: '+10 min' | '+1 h' | '+1 day'): Promise<void> {
    const before = await this.page.locator('#clock-now').getAttribute('datetime');
    await this.page.locator('.clock button', { hasText: label }).click();
    // The button stays disabled until the sweep ran and the page showed its effect.
    await this.page.locator(`#clock-now:not([datetime="${before}"])`).waitFor();
    await this.page.locator('.clock button:disabled').waitFor({ state: 'detached' });
  }

  /** Opens the thread under a message ("N replies") and returns the thread pane. */
  async openThread(message: Locator): Promise<Locator> {
    await message.locator('.replies-link').click();
    const pane = this.page.locator('#thread');
    await pane.waitFor();
    return pane;
  }

  /** The newest reply in the open thread containing `text`, once it is there. */
  async reply(text: string | RegExp): Promise<Locator> {
    const found = this.page.locator('#thread-messages .message').filter({ hasText: text }).last();
    await found.waitFor();
    return found;
  }

  async screenshot(name: string): Promise<string> {
    mkdirSync(ARTIFACTS, { recursive: true });
    this.shots++;
    const file = path.join(ARTIFACTS, `${this.prefix}${String(this.shots).padStart(2, '0')}-${name}.png`);
    await this.page.screenshot({ path: file });
    return file;
  }
}

/** Polls `check` until it holds; for conditions a locator cannot express. */
export async function until(check: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
