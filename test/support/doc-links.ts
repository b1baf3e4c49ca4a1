import path from 'node:path';

/**
 * The relative links of Markdown pages, checked the way GitHub renders them: a link to a file must
 * name one that exists, and a `#anchor` (on the same page or another) must name a heading there.
 * Code (fenced blocks and `inline spans`) is neither a link nor a heading, as on GitHub.
 */

/** A page's repository-relative path (with `/`) and its text. */
export interface Page {
  readonly path: string;
  readonly text: string;
}

/** What the checker may ask of the repository: whether a path exists, and a Markdown page's text. */
export interface Repository {
  exists(repoPath: string): boolean;
  read(repoPath: string): string | undefined;
}

const FENCE = /^ {0,3}(`{3,}|~{3,})/;

/** The page's lines outside fenced code blocks. */
function proseLines(text: string): string[] {
  const lines: string[] = [];
  let fence: string | undefined;
  for (const line of text.split('\n')) {
    const open = FENCE.exec(line)?.[1];
    if (fence !== undefined) {
      if (open !== undefined && open[0] === fence[0] && open.length >= fence.length) fence = undefined;
    } else if (open !== undefined) {
      fence = open;
    } else {
      lines.push(line);
    }
  }
  return lines;
}

/** A heading's anchor as GitHub makes it: lowercase, punctuation dropped, each space a `-`. */
export function slug(heading: string): string {
  return heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** Every anchor a page offers; a repeated heading gets `-1`, `-2` … as on GitHub. */
export function anchors(text: string): Set<string> {
  const found = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of proseLines(text)) {
    const heading = /^ {0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$/.exec(line)?.[1];
    if (heading === undefined) continue;
    const base = slug(heading);
    const times = seen.get(base) ?? 0;
    seen.set(base, times + 1);
    found.add(times === 0 ? base : `${base}-${times}`);
  }
  return found;
}

/** The targets of a page's inline links and images, outside code. */
export function linkTargets(text: string): string[] {
  const targets: string[] = [];
  for (const line of proseLines(text)) {
    const prose = line.replace(/(`+)[^`]*?\1/g, '');
    for (const match of prose.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      if (match[1] !== undefined) targets.push(match[1]);
    }
  }
  return targets;
}

const EXTERNAL = /^[a-z][a-z0-9+.-]*:/i;

/** One line per broken relative link: the page, the link and what is wrong with it. */
export function brokenLinks(pages: readonly Page[], repo: Repository): string[] {
  const broken: string[] = [];
  for (const page of pages) {
    for (const target of linkTargets(page.text)) {
      if (EXTERNAL.test(target)) continue;
      const [file = '', anchor] = target.split('#', 2);
      const resolved =
        file === ''
          ? page.path
          : path.posix.normalize(path.posix.join(path.posix.dirname(page.path), decodeURIComponent(file)));
      if (resolved.startsWith('../') || path.posix.isAbsolute(resolved)) {
        broken.push(`${page.path}: ${target}: points outside the repository`);
        continue;
      }
      if (!repo.exists(resolved)) {
        broken.push(`${page.path}: ${target}: no file ${resolved}`);
        continue;
      }
      if (anchor === undefined) continue;
      const text = file === '' ? page.text : resolved.endsWith('.md') ? repo.read(resolved) : undefined;
      if (text === undefined) {
        broken.push(`${page.path}: ${target}: ${resolved} is not a Markdown page with headings`);
      } else if (!anchors(text).has(anchor)) {
        broken.push(`${page.path}: ${target}: no heading #${anchor} in ${resolved}`);
      }
    }
  }
  return broken;
}

const REPO_FOLDERS = /^(?:src|handlers|deploy|test|policies|bench|bin|docs)\//;

/**
 * Repository paths a page names in code spans (`src/domain/policy.ts`, `policies/*.json`), so a
 * moved file is noticed too. A `*` matches within one path segment.
 */
export function namedPaths(text: string): string[] {
  const named: string[] = [];
  for (const line of proseLines(text)) {
    for (const match of line.matchAll(/`([^`\s]+)`/g)) {
      const candidate = match[1];
      if (candidate !== undefined && REPO_FOLDERS.test(candidate)) named.push(candidate);
    }
  }
  return named;
}

/** Whether a named path (with `*` wildcards) matches something among the repository's files. */
export function pathIsNamed(named: string, files: readonly string[]): boolean {
  const folder = named.endsWith('/');
  const pattern = new RegExp(
    `^${named
      .replace(/\/$/, '')
      .split('*')
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('[^/]*')}${folder ? '/' : '(?:/|$)'}`,
  );
  return files.some((file) => pattern.test(file));
}
