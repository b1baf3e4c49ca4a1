import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { SHORTCUT_REQUEST_ACCESS } from '../../../src/adapters/slack/action-ids';

interface Manifest {
  features: {
    shortcuts?: { name: string; type: string; callback_id: string }[];
    app_home?: { home_tab_enabled?: boolean; messages_tab_enabled?: boolean };
  };
  settings: { event_subscriptions?: { request_url?: string; bot_events?: string[] } };
  oauth_config: { scopes: { bot: string[] } };
}

const manifest = parse(readFileSync(join(__dirname, '../../../slack-app-manifest.yml'), 'utf8')) as Manifest;

describe('slack-app-manifest.yml', () => {
  it('declares the "Request access" global shortcut with the callback id the listener answers', () => {
    expect(manifest.features.shortcuts).toEqual([
      expect.objectContaining({
        name: 'Request access',
        type: 'global',
        callback_id: SHORTCUT_REQUEST_ACCESS,
      }),
    ]);
  });

  it('asks for no scope beyond what Keyturn calls', () => {
    expect([...manifest.oauth_config.scopes.bot].sort()).toEqual(
      ['chat:write', 'commands', 'im:write', 'usergroups:read', 'users:read'].sort(),
    );
  });

  it('enables the Home tab and subscribes to app_home_opened on the same /slack/events URL as everything else', () => {
    expect(manifest.features.app_home).toMatchObject({ home_tab_enabled: true, messages_tab_enabled: true });
    expect(manifest.settings.event_subscriptions).toEqual({
      request_url: 'https://keyturn.example.com/slack/events',
      bot_events: ['app_home_opened'],
    });
  });
});
