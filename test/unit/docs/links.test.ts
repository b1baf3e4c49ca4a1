import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  anchors,
  brokenLinks,
  linkTargets,
  namedPaths,
  type Page,
  pathIsNamed,
  type Repository,
  slug,
} from '../../support/doc-links';

const REPO = path.resolve(__dirname, '../../..');

const onDisk: Repository = {
  exists: (repoPath) => existsSync(path.join(REPO, repoPath)),
  read: (repoPath) => {
    const file = path.join(REPO, repoPath);
    return existsSync(file) ? readFileSync(file, 'utf8') : undefined;
  },
};

function docsPages(): Page[] {
  const docs = readdirSync(path.join(REPO, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`);
  return ['README.md', ...docs].map((p) => ({ path: p, text: readFileSync(path.join(REPO, p), 'utf8') }));
}

/** A repository held in memory: its pages, and any other files by path. */
function inMemory(pages: readonly Page[], files: readonly string[] = []): Repository {
  const byPath = new Map(pages.map((page) => [page.path, page.text]));
  return {
    exists: (p) =>
      byPath.has(p) || files.includes(p) || [...byPath.keys(), ...files].some((f) => f.startsWith(`${p}/`)),
    read: (p) => byPath.get(p),
  };
}

describe('the links in README.md and docs/', () => {
  it('every relative link points at a file that exists, and every #anchor at a heading', () => {
    const pages = docsPages();
    expect(pages.length).toBeGreaterThan(5);
    expect(brokenLinks(pages, onDisk)).toEqual([]);
  });

  it('the README links to every page under docs/', () => {
    const pages = docsPages();
    const readme = pages.find((page) => page.path === 'README.md')!;
    const linked = new Set(linkTargets(readme.text).map((target) => target.split('#')[0]));
    const unlinked = pages.filter((page) => page.path !== 'README.md' && !linked.has(page.path));
    expect(unlinked.map((page) => page.path)).toEqual([]);
  });

  it('every source, test or deploy path named in code spans exists (a moved file is noticed)', () => {
    // The folders such paths start in, as they are on disk (generated files are allowed for below).
    const files = ['src', 'handlers', 'deploy', 'test', 'policies', 'bench', 'bin', 'docs'].flatMap(
      (folder) =>
        readdirSync(path.join(REPO, folder), { recursive: true, encoding: 'utf8' }).map(
          (file) => `${folder}/${file.split(path.sep).join('/')}`,
        ),
    );
    const generated = ['test/e2e/artifacts/'];
    const missing = docsPages().flatMap((page) =>
      namedPaths(page.text)
        .filter((named) => !generated.includes(named) && !pathIsNamed(named, files))
        .map((named) => `${page.path}: ${named}`),
    );
    expect(missing).toEqual([]);
  });

  it('the README keeps the two set-up commands CI and hooks look for', () => {
    const readme = readFileSync(path.join(REPO, 'README.md'), 'utf8');
    expect(readme).toContain('npm install && npm start');
    expect(readme).toContain('npm test');
  });
});

describe('the link checker', () => {
  const guide: Page = {
    path: 'docs/guide.md',
    text: [
      '# Guide',
      '## Configuration reference (`keyturn.yml`)',
      "## The functions' role",
      '## Notes',
      '## Notes',
      '```sh',
      '# not a heading: a shell comment',
      '[not a link](nowhere.md)',
      '```',
    ].join('\n'),
  };

  it('makes anchors as GitHub does', () => {
    expect(slug('Configuration reference (`keyturn.yml`)')).toBe('configuration-reference-keyturnyml');
    expect(slug("The functions' role")).toBe('the-functions-role');
    expect(slug('Deploy and organisation (AWS Lambda)')).toBe('deploy-and-organisation-aws-lambda');
    expect(slug('Sessions and the daily digest')).toBe('sessions-and-the-daily-digest');
    expect(slug('keyturn_table and `npm start`')).toBe('keyturn_table-and-npm-start');
    expect([...anchors(guide.text)]).toEqual([
      'guide',
      'configuration-reference-keyturnyml',
      'the-functions-role',
      'notes',
      'notes-1',
    ]);
  });

  it('accepts links to files, headings on the same page and headings on another page', () => {
    const readme: Page = {
      path: 'README.md',
      text: [
        '# Keyturn',
        '![picture](docs/sandbox.png) [guide](docs/guide.md) [role](docs/guide.md#the-functions-role)',
        '[top](#keyturn) [second notes](docs/guide.md#notes-1) [site](https://example.com/#x) [folder](docs)',
        'In code: `[x](missing.md)`',
      ].join('\n'),
    };
    const back: Page = {
      path: 'docs/back.md',
      text: '# Back\n[home](../README.md#keyturn) [config](guide.md#configuration-reference-keyturnyml)',
    };
    expect(brokenLinks([readme, guide, back], inMemory([readme, guide, back], ['docs/sandbox.png']))).toEqual(
      [],
    );
  });

  it('reports a link to a missing file, and to a missing heading on its own page or another', () => {
    const readme: Page = {
      path: 'README.md',
      text: [
        '# Keyturn',
        'See [the guide](docs/guid.md), [deploy](docs/guide.md#deploy), [here](#set-up),',
        '![gone](docs/gone.png) and [the shell comment](docs/guide.md#not-a-heading-a-shell-comment).',
        'And [outside](../secrets.md).',
      ].join('\n'),
    };
    expect(brokenLinks([readme, guide], inMemory([readme, guide]))).toEqual([
      'README.md: docs/guid.md: no file docs/guid.md',
      'README.md: docs/guide.md#deploy: no heading #deploy in docs/guide.md',
      'README.md: #set-up: no heading #set-up in README.md',
      'README.md: docs/gone.png: no file docs/gone.png',
      'README.md: docs/guide.md#not-a-heading-a-shell-comment: no heading #not-a-heading-a-shell-comment in docs/guide.md',
      'README.md: ../secrets.md: points outside the repository',
    ]);
  });
});

describe('the named-path checker', () => {
  const files = ['src/domain/policy.ts', 'policies/boundary.json', 'test/unit/domain/snippet.test.ts'];

  it('finds files, folders and wildcards, and only in prose', () => {
    const text =
      'See `src/domain/policy.ts`, `src/domain/`, `policies/*.json` and `snippets:`.\n```\n`src/gone.ts`\n```';
    expect(namedPaths(text)).toEqual(['src/domain/policy.ts', 'src/domain/', 'policies/*.json']);
    expect(namedPaths(text).every((named) => pathIsNamed(named, files))).toBe(true);
    expect(pathIsNamed('test/unit/domain/snippet*.test.ts', files)).toBe(true);
  });

  it('reports a moved file, a missing folder and a wildcard that matches nothing', () => {
    expect(pathIsNamed('src/adapters/slack/blocks.ts', files)).toBe(false);
    expect(pathIsNamed('src/domain/policy', files)).toBe(false);
    expect(pathIsNamed('src/config/', files)).toBe(false);
    expect(pathIsNamed('policies/*.yml', files)).toBe(false);
  });
});
