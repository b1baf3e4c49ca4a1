import { auditLineMessage } from '../../../src/adapters/slack/audit-blocks';
import type { SlackMessage } from '../../../src/adapters/slack/block-kit';
import { extensionCard } from '../../../src/adapters/slack/extension-card-blocks';
import { homeTab } from '../../../src/adapters/slack/home-blocks';
import { notice } from '../../../src/adapters/slack/notice-blocks';
import { commandReply } from '../../../src/adapters/slack/replies';
import { requestCard } from '../../../src/adapters/slack/request-card-blocks';
import { requestForm, requestFormErrors } from '../../../src/adapters/slack/request-form-blocks';
import { runApprovalCard } from '../../../src/adapters/slack/run-card-blocks';
import { runMessage } from '../../../src/adapters/slack/run-message-blocks';
import { sessionStartedReply, sessionSummary } from '../../../src/adapters/slack/session-blocks';
import { grantAuditLine, runAuditLine } from '../../../src/domain/audit-line';
import type { CommandRun } from '../../../src/domain/command-run';
import type { Grant } from '../../../src/domain/grant';
import { awsProfile } from '../../../src/domain/person';
import type { Session } from '../../../src/domain/session';
import { testConfig } from '../../support/fakes';
import {
  active,
  extensionPending,
  golden,
  nodes,
  oneApproval,
  requested,
  target,
  wire,
} from '../../support/grant-messages';
import { queued } from '../../support/run-messages';
import { FACTORY, frankfurtRaspi, orgConfig, osakaRaspi } from '../../support/org-config';

/*
 * Issue 14: every message about a grant, a run or a target says which account and region it is in
 * when Keyturn serves more than one place, and stays as it was with one account and one region.
 */

const ORG = orgConfig().aws;
const ONE_PLACE = testConfig().aws;
const OSAKA = 'factory (444455556666), ap-northeast-3';

const osakaPending: Grant = {
  ...requested,
  target: 'osaka-raspi',
  account: FACTORY,
  region: 'ap-northeast-3',
};
const osakaActive: Grant = { ...active, target: 'osaka-raspi', account: FACTORY, region: 'ap-northeast-3' };

const all = (m: SlackMessage) => `${m.text}\n${JSON.stringify(m.blocks)}`;

describe('with one account and one region', () => {
  it('the card, the ready DM and the list read exactly as before: no place on every line', () => {
    // The golden file the card has had since before there were other accounts.
    expect(wire(requestCard({ grant: oneApproval, target, nodes }, ONE_PLACE))).toStrictEqual(
      golden('request-card-pending'),
    );
    const ready = notice(
      { kind: 'ready', grant: active, target: osakaRaspi, nodes, region: 'ap-northeast-1' },
      undefined,
      ONE_PLACE,
    );
    expect(all(ready)).not.toContain('123456789012, ap-northeast-1');
    const list = commandReply({ kind: 'list', mine: [active], onMyTargets: [] }, ONE_PLACE).text;
    expect(list).toMatch(/^\*Yours\*\n• `a1b2` prod-raspi — active until <!date\^/);
  });
});

describe('in an organisation', () => {
  it('the request form names each target’s account and region, and shows the attach: direct refusal', () => {
    const targets = Object.values(orgConfig().targets);
    const options = (
      requestForm(targets, ORG).blocks[0] as { element: { options: { text: { text: string } }[] } }
    ).element.options.map((o) => o.text.text);
    expect(options).toEqual([
      'prod-raspi (123456789012, ap-northeast-1)',
      'osaka-raspi (factory, ap-northeast-3)',
      'frankfurt-raspi (factory, eu-central-1)',
    ]);
    expect(requestForm([target], ONE_PLACE)).toStrictEqual(requestForm([target]));
    const errors = requestFormErrors({
      reason: 'direct-attach-elsewhere',
      user: 'U0ERIN',
      principal: { kind: 'user', name: 'erin', path: '/engineering/' },
      target: osakaRaspi,
      targetAccount: 'factory (444455556666)',
      homeAccount: '123456789012',
    });
    expect(Object.values(errors)).toEqual([
      "Your grants attach to your own IAM user erin (attach: direct), which is in Keyturn's account 123456789012, and osaka-raspi is in account factory (444455556666): IAM attaches a policy only to users and roles of its own account. Ask whoever maintains Keyturn's configuration to take attach: direct off your entry (U0ERIN) under people: in keyturn.yml, so your grants go to your Keyturn access role, which the grantor template creates in every member account.",
    ]);
  });

  it('the approval card names the account (alias) and region in a field, the policy line and the text', () => {
    const card = requestCard({ grant: osakaPending, target: osakaRaspi, nodes }, ORG);
    expect(card.text).toBe(`Access request a1b2 for osaka-raspi in ${OSAKA} (1h) by <@U0ALICE>: pending`);
    const fields = (card.blocks[1] as { fields: { text: string }[] }).fields.map((f) => f.text);
    expect(fields).toContain(`*Where*\n${OSAKA}`);
    expect(all(card)).toContain(`Only on nodes tagged Fleet=osaka-raspi in ${OSAKA}, until`);
  });

  it('a grant recorded before there were other accounts is in Keyturn’s own account and region', () => {
    const card = requestCard({ grant: requested, target: osakaRaspi, nodes }, ORG);
    expect(card.text).toContain('for osaka-raspi in 123456789012, ap-northeast-1 (1h)');
  });

  it('the ready DM names the place, and its profile and commands are that account’s and region’s', () => {
    const profile = awsProfile({ ...ORG, partition: 'aws' }, orgConfig().people.U0ALICE!, {
      accountId: FACTORY,
      region: 'ap-northeast-3',
    });
    const dm = notice(
      {
        kind: 'ready',
        grant: osakaActive,
        target: osakaRaspi,
        nodes,
        region: 'ap-northeast-3',
        ...(profile && { profile }),
      },
      undefined,
      ORG,
    );
    expect(dm.text).toMatch(/^Access to osaka-raspi in factory \(444455556666\), ap-northeast-3 is ready/);
    const text = all(dm);
    expect(text).toContain(
      '[profile keyturn-factory]\\nrole_arn = arn:aws:iam::444455556666:role/keyturn/people/keyturn-u0alice',
    );
    expect(text).toContain('region = ap-northeast-3');
    expect(text).toContain(
      'aws ssm start-session --profile keyturn-factory --target mi-0a1b2c3d4e5f60001 --region ap-northeast-3',
    );
    // One Host block cannot route nodes of several accounts: the ProxyCommand goes on the command line.
    expect(text).toContain(
      'ssh -o ProxyCommand=\\"aws ssm start-session --profile keyturn-factory --target %h --document-name AWS-StartSSHSession --parameters portNumber=%p --region ap-northeast-3\\" mi-0a1b2c3d4e5f60001',
    );
    expect(text).not.toContain('Host i-* mi-*');
    expect(text).not.toContain('--profile keyturn --');
  });

  it('/access list names where each grant is, for the requester and for approvers', () => {
    const frankfurt: Grant = {
      ...osakaActive,
      id: 'c3d4',
      target: 'frankfurt-raspi',
      region: 'eu-central-1',
      requester: 'U0BOB',
    };
    const list = commandReply({ kind: 'list', mine: [osakaPending], onMyTargets: [frankfurt] }, ORG).text;
    expect(list).toContain(`• \`a1b2\` osaka-raspi in ${OSAKA} — waiting for approval`);
    expect(list).toContain(
      '• `c3d4` frankfurt-raspi in factory (444455556666), eu-central-1 for <@U0BOB> — active until',
    );
  });

  it('the App Home names where each grant is', () => {
    const home = homeTab(
      {
        user: 'U0ALICE',
        active: [osakaActive],
        pending: [],
        waitingForMe: [],
        extensionsWaitingForMe: [],
        activeOnMyTargets: [],
        targets: { 'osaka-raspi': osakaRaspi, 'frankfurt-raspi': frankfurtRaspi },
        nodes: {},
      },
      ORG,
    );
    expect(JSON.stringify(home.blocks)).toContain(`*osaka-raspi* in ${OSAKA} · \`a1b2\``);
  });

  it('the extension card names where the grant is', () => {
    const card = extensionCard(
      {
        ...extensionPending,
        grant: { ...extensionPending.grant, account: FACTORY, region: 'ap-northeast-3' },
      },
      ORG,
    );
    const fields = (card.blocks[1] as { fields: { text: string }[] }).fields.map((f) => f.text);
    expect(fields).toContain(`*Where*\n${OSAKA}`);
    expect(card.text).toContain(`in ${OSAKA} (+30m)`);
  });

  it('thread summaries name the node’s place: session start and end', () => {
    const session: Session = {
      id: 'alice-0a1b2c3d4e5f6a7b8',
      version: 2,
      status: 'ended',
      firstSeenAt: '2026-11-03T13:10:00Z',
      owner: `arn:aws:sts::${FACTORY}:assumed-role/keyturn-u0alice/alice`,
      node: { id: 'mi-0a1b2c3d4e5f60001', name: 'osaka-1' },
      document: 'shell',
      startedAt: '2026-11-03T13:10:00Z',
      endedAt: '2026-11-03T13:20:00Z',
      grantId: 'a1b2',
    };
    const started = sessionStartedReply({ session, grant: osakaActive }, ORG);
    expect(started.text).toContain(`on osaka-1 (\`mi-0a1b2c3d4e5f60001\`) in ${OSAKA}`);
    const summary = sessionSummary(
      { session, grant: osakaActive, ending: { kind: 'exited', by: session.owner ?? '' } },
      ORG,
    );
    expect(summary.text).toContain(`on osaka-1 (\`mi-0a1b2c3d4e5f60001\`) in ${OSAKA} ended`);
  });

  it('audit-trail lines name where the grant or the run is', () => {
    const requestedLine = grantAuditLine(osakaPending, 0);
    expect(requestedLine).toMatchObject({ account: FACTORY, region: 'ap-northeast-3' });
    expect(auditLineMessage(requestedLine!, undefined, ORG).text).toContain(
      `requested access to *osaka-raspi* in ${OSAKA} for 1h`,
    );
    // One account and one region: the line reads as before.
    expect(auditLineMessage(grantAuditLine(requested, 0)!, undefined, ONE_PLACE)).toStrictEqual(
      auditLineMessage(grantAuditLine(requested, 0)!),
    );
    const run: CommandRun = {
      ...queued,
      status: 'running',
      target: 'frankfurt-raspi',
      account: FACTORY,
      region: 'eu-central-1',
    };
    expect(auditLineMessage(runAuditLine(run)!, undefined, ORG).text).toContain(
      '*logs* on *frankfurt-raspi* in factory (444455556666), eu-central-1 for',
    );
  });

  it('run messages and run approval cards name where the command runs', () => {
    const run: CommandRun = {
      ...queued,
      target: 'frankfurt-raspi',
      account: FACTORY,
      region: 'eu-central-1',
    };
    const where = 'in factory (444455556666), eu-central-1';
    expect(runMessage({ run, target: frankfurtRaspi }, ORG).text).toContain(`on frankfurt-raspi ${where}`);
    const card = runApprovalCard(
      { run: { ...run, status: 'awaiting-approval', needsApproval: true }, target: frankfurtRaspi },
      ORG,
    );
    expect(card.text).toContain(`on frankfurt-raspi ${where} by <@U0ALICE>`);
    expect(all(card)).toContain(`on frankfurt-raspi ${where} (Frankfurt Pi line)`);
  });
});
