import { type NodeResult, RESULTS_PER_MESSAGE } from '../../../src/domain/command-run';
import {
  BATCHED_STDOUT_CHARS,
  fitOutput,
  runResultsMessage,
  SINGLE_STDOUT_CHARS,
} from '../../../src/adapters/slack/run-result-blocks';
import {
  running,
  finished,
  succeeded,
  failed,
  undeliverable,
  wire,
  golden,
  texts,
  assertWithinLimits,
  hostile,
  escaped,
  noToken,
} from '../../support/run-messages';

describe('runResultsMessage', () => {
  it('one node: status, exit code, duration, and output in a code block', () => {
    const message = runResultsMessage({ run: running, results: [succeeded], batched: false });
    expect(wire(message)).toStrictEqual(golden('run-results-single', message));
    expect(texts(message)[0]).toBe(
      ':white_check_mark: *raspi-line-1* `mi-0a1b2c3d4e5f60001` — succeeded · exit 0 · 1.3 s',
    );
  });

  it('a failure shows stderr, an undeliverable node says it never ran', () => {
    expect(texts(runResultsMessage({ run: running, results: [failed], batched: false }))).toEqual([
      ':x: *raspi-line-2* `mi-0a1b2c3d4e5f60002` — failed · exit 1 · 2 min 10 s',
      "*stderr*\n```Failed to add match '_SYSTEMD_UNIT=ssh.service': Invalid argument```",
    ]);
    expect(texts(runResultsMessage({ run: running, results: [undeliverable], batched: false }))).toEqual([
      ':no_entry_sign: *raspi-line-3* `mi-0a1b2c3d4e5f60003` — undeliverable (SSM could not reach the node) · never ran',
      'no output',
    ]);
  });

  it('labels simulated results', () => {
    const message = runResultsMessage({
      run: { ...running, simulated: true },
      results: [succeeded],
      batched: false,
    });
    expect(texts(message)[0]).toContain('(simulated) *raspi-line-1*');
    expect(message.text).toBe('raspi-line-1: succeeded (simulated)');
  });

  it('cuts output over the limit and says how much more there is and where it is', () => {
    const big: NodeResult = {
      ...succeeded,
      stdout: 'y'.repeat(4_000),
      stdoutChars: 24_000,
      stdoutLocation: 'https://keyturn-out.s3.ap-northeast-1.amazonaws.com/run/cmd/mi-1/stdout',
      stderr: 'e'.repeat(4_000),
      stderrChars: 5_000,
    };
    const message = runResultsMessage({ run: running, results: [big], batched: false });
    assertWithinLimits(message);
    const [, stdout, stderr] = texts(message);
    expect(stdout).toContain('y'.repeat(SINGLE_STDOUT_CHARS));
    expect(stdout).not.toContain('y'.repeat(SINGLE_STDOUT_CHARS + 1));
    expect(stdout).toContain(
      '_… 21,400 more characters (SSM returns at most the first 24,000) — full output: <https://keyturn-out.s3.ap-northeast-1.amazonaws.com/run/cmd/mi-1/stdout|S3>_',
    );
    expect(stderr).toContain('_… 2,400 more characters_');
    expect(wire(message)).toStrictEqual(golden('run-results-over-limit', message));
  });

  it('names a CloudWatch location that is not a link as text', () => {
    const cw: NodeResult = {
      ...succeeded,
      stdoutLocation: 'CloudWatch Logs /keyturn/run › cmd/mi-1/aws-runShellScript/stdout',
    };
    expect(texts(runResultsMessage({ run: running, results: [cw], batched: false }))[1]).toContain(
      '_full output: CloudWatch Logs /keyturn/run › cmd/mi-1/aws-runShellScript/stdout_',
    );
  });

  it('batches up to 10 nodes, one section each, inside every limit even at the worst', () => {
    const worst: NodeResult[] = Array.from({ length: RESULTS_PER_MESSAGE }, (_, i) => ({
      ...failed,
      nodeId: `mi-${String(i).padStart(17, '0')}`,
      nodeName: 'n'.repeat(256),
      stdout: '<&>`'.repeat(1_000),
      stdoutChars: 24_000,
      stdoutLocation: `https://keyturn-out.s3.amazonaws.com/${'p'.repeat(1_000)}`,
      stderr: '&'.repeat(4_000),
      stderrChars: 8_000,
      stderrLocation: `CloudWatch Logs ${'/g'.repeat(300)}`,
    }));
    const message = runResultsMessage({ run: running, results: worst, batched: true });
    expect(message.blocks).toHaveLength(RESULTS_PER_MESSAGE);
    assertWithinLimits(message);
    expect(message.text).toBe('10 nodes: 0 succeeded · 10 failed');
  });

  it('a single node at the worst stays inside every limit too', () => {
    const worst: NodeResult = {
      ...failed,
      nodeName: 'n'.repeat(256),
      stdout: '<&>`'.repeat(1_000),
      stdoutChars: 24_000,
      stdoutLocation: `https://x.s3.amazonaws.com/${'p'.repeat(5_000)}`,
      stderr: '>'.repeat(4_000),
      stderrChars: 8_000,
      stderrLocation: 'z'.repeat(5_000),
    };
    assertWithinLimits(runResultsMessage({ run: running, results: [worst], batched: false }));
  });

  it('shows less per node when batched', () => {
    const long: NodeResult = { ...succeeded, stdout: 'y'.repeat(4_000), stdoutChars: 4_000 };
    const [text] = texts(runResultsMessage({ run: running, results: [long], batched: true }));
    expect(text).toContain('y'.repeat(BATCHED_STDOUT_CHARS));
    expect(text).not.toContain('y'.repeat(BATCHED_STDOUT_CHARS + 1));
    expect(text).toContain(`_… ${(4_000 - BATCHED_STDOUT_CHARS).toLocaleString('en-US')} more characters_`);
  });
});

describe('fitOutput', () => {
  it('counts the escaped length against the budget and says how many raw characters it showed', () => {
    expect(fitOutput('a<b&c', 100)).toEqual({ text: 'a&lt;b&amp;c', shownChars: 5 });
    expect(fitOutput('a<b&c', 6)).toEqual({ text: 'a&lt;b', shownChars: 3 });
  });

  it('never splits a surrogate pair and never leaves ``` in the text', () => {
    expect(fitOutput('ab😀c', 3)).toEqual({ text: 'ab', shownChars: 2 });
    expect(fitOutput('ab😀c', 4)).toEqual({ text: 'ab😀', shownChars: 4 });
    expect(fitOutput('x```y', 100).text).toBe('x``\u200b`y');
  });
});

// Issue 11 point 9: a grantee can rename a node they control; its name reached `text` unescaped.
describe('a node or target named like a Slack token shows literally, in text as in blocks', () => {
  it.each([
    ['one node', false, [{ ...succeeded, nodeName: hostile }]],
    ['a batch', true, [{ ...succeeded, nodeName: hostile }, failed]],
  ] as const)('in the results of %s', (_name, batched, results) => {
    const m = runResultsMessage({ run: finished, results, batched });
    noToken(m);
    expect(JSON.stringify(m.blocks)).toContain(escaped);
    if (!batched) expect(m.text).toBe(`${escaped}: succeeded`);
  });

  it('in the results of a node without a name, whose id is shown instead', () => {
    const m = runResultsMessage({
      run: finished,
      results: [{ ...succeeded, nodeName: undefined, nodeId: hostile }],
      batched: false,
    });
    noToken(m);
    expect(m.text).toBe(`${escaped}: succeeded`);
  });
});
