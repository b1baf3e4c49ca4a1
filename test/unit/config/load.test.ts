import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigLoadError, EXAMPLE_CONFIG_PATH, loadConfig } from '../../../src/config/load';
import { formatConfigError } from '../../../src/config/problems';
import { EXAMPLE_TEXT, exampleWith, problemsOf } from './example';

describe('parseConfig: YAML and file-level problems', () => {
  it('reports a YAML syntax error with its line and column', () => {
    const text = 'aws:\n  accountId: "123456789012"\n  region: [ap-northeast-1\nslack: {}\n';
    const error = problemsOf(text);
    expect(error.problems.length).toBeGreaterThan(0);
    expect(error.problems[0]?.message).toMatch(/^YAML syntax error at line \d+, column \d+: /);
    expect(formatConfigError(error)).toMatch(/^keyturn\.yml: YAML syntax error at line [34], column \d+/);
  });

  it('reports a key given twice with its line', () => {
    const text = EXAMPLE_TEXT.replace(
      '  U0BOB: { iamUser: bob }\n',
      '  U0BOB: { iamUser: bob }\n  U0BOB: { iamUser: eve }\n',
    );
    const line = text.split('\n').findIndex((l) => l.includes('iamUser: eve')) + 1;
    const error = problemsOf(text);
    expect(error.problems).toEqual([
      {
        path: '',
        message: expect.stringMatching(new RegExp(`^YAML syntax error at line ${line}, .*unique`)),
      },
    ]);
  });

  it('reports an empty file as such', () => {
    expect(problemsOf('').problems).toEqual([
      expect.objectContaining({ path: '', message: expect.stringMatching(/the file is empty/) }),
    ]);
  });
});

describe('loadConfig', () => {
  let dir: string;
  const logs: string[] = [];
  const log = (msg: string) => logs.push(msg);

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'keyturn-config-'));
    logs.length = 0;
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the file KEYTURN_CONFIG names, relative to cwd', () => {
    mkdirSync(path.join(dir, 'conf'));
    writeFileSync(path.join(dir, 'conf', 'mine.yml'), exampleWith([['digest', 'timezone'], 'Europe/Paris']));
    const config = loadConfig({ env: { KEYTURN_CONFIG: 'conf/mine.yml' }, cwd: dir, log });
    expect(config.digest.timezone).toBe('Europe/Paris');
    expect(logs).toEqual([]);
  });

  it('reads keyturn.yml in cwd when KEYTURN_CONFIG is unset', () => {
    writeFileSync(path.join(dir, 'keyturn.yml'), exampleWith([['aws', 'region'], 'eu-central-1']));
    expect(loadConfig({ env: {}, cwd: dir, log }).aws.region).toBe('eu-central-1');
    expect(logs).toEqual([]);
  });

  it('throws CONFIG_NOT_FOUND naming the path when KEYTURN_CONFIG points nowhere', () => {
    const missing = path.join(dir, 'nope.yml');
    // Even with a keyturn.yml present: an explicit setting must never fall back silently.
    writeFileSync(path.join(dir, 'keyturn.yml'), EXAMPLE_TEXT);
    const load = () => loadConfig({ env: { KEYTURN_CONFIG: missing }, cwd: dir, log });
    expect(load).toThrow(ConfigLoadError);
    expect(load).toThrow(expect.objectContaining({ code: 'CONFIG_NOT_FOUND', name: 'ConfigLoadError' }));
    expect(load).toThrow(missing);
  });

  it('falls back to the shipped example and says so', () => {
    const config = loadConfig({ env: {}, cwd: dir, log });
    expect(config.targets).toHaveProperty('prod-raspi');
    expect(logs).toHaveLength(1);
    expect(logs[0]).toContain(EXAMPLE_CONFIG_PATH);
    expect(logs[0]).toContain('keyturn.yml');
  });

  it('throws CONFIG_INVALID with every problem when the file is invalid', () => {
    writeFileSync(
      path.join(dir, 'keyturn.yml'),
      exampleWith([['targets', 'prod-raspi', 'maxDuration'], '5x']),
    );
    let thrown: unknown;
    try {
      loadConfig({ env: {}, cwd: dir, log });
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(ConfigLoadError);
    const error = thrown as ConfigLoadError;
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.name).toBe('ConfigLoadError');
    expect(error.problems).toEqual([
      expect.objectContaining({ path: 'targets.prod-raspi.maxDuration', value: '5x' }),
    ]);
    // The file is under cwd, so it is named as the operator would type it.
    expect(error.message).toBe(
      "keyturn.yml: targets.prod-raspi.maxDuration: '5x' is not a duration like 30m, 1h, 2h30m or 90m",
    );
  });
});
