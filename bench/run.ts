import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { AckResult } from './ack-latency';
import type { ApprovalResult } from './approval-to-usable';
import { ROOT, runChild } from './child-process';
import type { ColdStartResult } from './cold-start';
import type { DigestResult } from './digest-at-scale';
import type { FanOutResult } from './run-fan-out';
import { round } from './stats';
import type { SweeperResult } from './sweeper-at-scale';

/**
 * `npm run bench`: the seven measurements of issue 8, each in its own process, one after the other
 * (the two IAM latencies of item 2 side by side), then a table on stdout, bench/results.json and the
 * results section of BENCHMARKS.md. BENCH_QUICK=1 runs small sizes and writes only bench/tmp/.
 * The numbers are reported as measured; a target missed is a finding, not a failure of this script.
 */

const QUICK = process.env.BENCH_QUICK === '1';
const SIZES = QUICK
  ? {
      ackRequests: 200,
      ackWarmup: 20,
      coldRuns: 3,
      sweeperGrants: 100,
      sweeperGrantsLarge: 1_000,
      digestGrants: 2_000,
      digestSessions: 10_000,
      nodes: 500,
    }
  : {
      ackRequests: 2_000,
      ackWarmup: 100,
      coldRuns: 15,
      sweeperGrants: 1_000,
      sweeperGrantsLarge: 10_000,
      digestGrants: 20_000,
      digestSessions: 100_000,
      nodes: 500,
    };
const RESULTS = QUICK
  ? path.join(__dirname, 'tmp', 'results-quick.json')
  : path.join(__dirname, 'results.json');
const BENCHMARKS_MD = path.join(ROOT, 'BENCHMARKS.md');
const START = '<!-- bench:results:start -->';
const END = '<!-- bench:results:end -->';

interface Item {
  id: number;
  name: string;
  target: string;
  /** What to show in the table; undefined when the item was not measured. */
  result?: string;
  /** true/false against the target; null when the brief sets no number or nothing was measured. */
  met: boolean | null;
  status: 'measured' | 'not measured';
  reason?: string;
  seconds: number;
  data?: unknown;
}

const file = (name: string) => path.join(__dirname, name);
const ms = (v: number) => `${round(v, 1)} ms`;
const s = (v: number) => `${round(v / 1000, 1)} s`;

async function measured<T>(
  id: number,
  name: string,
  target: string,
  run: () => Promise<T>,
  judge: (data: T) => { result: string; met: boolean | null },
  requires: string[] = [],
): Promise<Item> {
  const t0 = performance.now();
  process.stdout.write(`[${id}/7] ${name} …\n`);
  const missing = requires.filter((f) => !existsSync(path.join(ROOT, f)));
  if (missing.length > 0) {
    return {
      id,
      name,
      target,
      met: null,
      status: 'not measured',
      reason: `${missing.join(', ')} not in the repository yet`,
      seconds: 0,
    };
  }
  try {
    const data = await run();
    const { result, met } = judge(data);
    const seconds = round((performance.now() - t0) / 1000, 1);
    process.stdout.write(`      ${result} (${seconds} s)\n`);
    return { id, name, target, result, met, status: 'measured', seconds, data };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    process.stdout.write(`      not measured: ${reason}\n`);
    return {
      id,
      name,
      target,
      met: null,
      status: 'not measured',
      reason,
      seconds: round((performance.now() - t0) / 1000, 1),
    };
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  const machine = {
    nproc: os.cpus().length,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: round(os.totalmem() / 1024 ** 3, 1),
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    loadAverageAtStart: os.loadavg().map((l) => round(l, 2)),
  };
  const items: Item[] = [];

  items.push(
    await measured(
      1,
      'Ack latency (zero-latency fakes)',
      'p99 ≤ 25 ms; no IAM or SSM call before the response',
      () =>
        runChild<AckResult>(file('ack-latency.ts'), [
          'zero',
          String(SIZES.ackRequests),
          String(SIZES.ackWarmup),
        ]),
      (r) => ({
        result: `/access p50 ${ms(r.access.p50Ms)} p99 ${ms(r.access.p99Ms)}; Approve p50 ${ms(r.approve.p50Ms)} p99 ${ms(r.approve.p99Ms)}; before the response: ${callsLine(r)}`,
        met:
          r.access.p99Ms <= 25 &&
          r.approve.p99Ms <= 25 &&
          noAwsOnAck(r) &&
          r.access.succeeded === r.access.requests &&
          r.approve.succeeded === r.approve.requests,
      }),
    ),
  );

  items.push(
    await measured(
      2,
      'Ack independent of AWS latency',
      'ack p99 ≤ 400 ms; p99 within ±10% between IAM 300 ms and 3,000 ms',
      async () => {
        const [iam300, iam3000] = await Promise.all(
          ['iam300', 'iam3000'].map((p) =>
            runChild<AckResult>(
              file('ack-latency.ts'),
              [p, String(SIZES.ackRequests), String(SIZES.ackWarmup)],
              {
                label: `ack-${p}`,
              },
            ),
          ),
        );
        return { iam300: iam300 as AckResult, iam3000: iam3000 as AckResult };
      },
      ({ iam300, iam3000 }) => {
        const change = (a: number, b: number) => round(((b - a) / a) * 100, 1);
        const accessChange = change(iam300.access.p99Ms, iam3000.access.p99Ms);
        const approveChange = change(iam300.approve.p99Ms, iam3000.approve.p99Ms);
        return {
          result: `IAM 300 ms: /access p99 ${ms(iam300.access.p99Ms)}, Approve p99 ${ms(iam300.approve.p99Ms)}; IAM 3,000 ms: /access p99 ${ms(iam3000.access.p99Ms)} (${signed(accessChange)}%), Approve p99 ${ms(iam3000.approve.p99Ms)} (${signed(approveChange)}%); p99 noise within one run (odd vs even requests): up to ${noise([iam300, iam3000])}%; ${callsLine(iam3000)}`,
          met:
            Math.max(
              iam300.access.p99Ms,
              iam300.approve.p99Ms,
              iam3000.access.p99Ms,
              iam3000.approve.p99Ms,
            ) <= 400 &&
            Math.abs(accessChange) <= 10 &&
            Math.abs(approveChange) <= 10 &&
            noAwsOnAck(iam300) &&
            noAwsOnAck(iam3000),
        };
      },
    ),
  );

  items.push(
    await measured(
      3,
      'Cold start',
      'slack handler init ≤ 1.25× a minimal Bolt AwsLambdaReceiver app',
      () => runChild<ColdStartResult>(file('cold-start.ts'), [String(SIZES.coldRuns)]),
      (r) => {
        const slack = r.bundles.find((b) => b.name === 'slack');
        const minimal = r.bundles.find((b) => b.name === 'minimalBoltApp');
        return {
          result: `slack ${kib(slack?.bytes)} KiB, ${ms(slack?.processMedianMs ?? Number.NaN)} vs minimal app ${kib(minimal?.bytes)} KiB, ${ms(minimal?.processMedianMs ?? Number.NaN)}: ${r.slackRatio.process}× (in-process init ${r.slackRatio.init}×); every function (bundle, spawn to ready, in-process init): ${r.bundles
            .filter((b) => b.name !== 'minimalBoltApp')
            .map((b) => `${b.name} ${kib(b.bytes)} KiB ${ms(b.processMedianMs)} ${ms(b.initMedianMs)}`)
            .join(', ')}`,
          met: r.slackRatio.process <= 1.25,
        };
      },
    ),
  );

  items.push(
    await measured(
      4,
      'Approval to usable',
      '≤ 3 IAM calls before the readiness check (IAM 300 ms)',
      () => runChild<ApprovalResult[]>(file('approval-to-usable.ts'), ['0', '5000']),
      (r) => {
        const now = r.find((x) => x.propagationMs === 0) ?? r[0];
        const slow = r.find((x) => x.propagationMs > 0);
        if (!now) throw new Error('no result');
        return {
          result: `${s(now.cold.readyMs)} to the ready DM (first approval in a container; ${s(now.warm.readyMs)} after); IAM calls before the readiness check: ${now.cold.iamBeforeReadiness.length} first (${now.cold.iamBeforeReadiness.join(', ')}), ${now.warm.iamBeforeReadiness.length} after; ${callsOf(now.cold.calls)}${slow ? `; with ${s(slow.propagationMs)} IAM propagation: ${s(slow.cold.readyMs)}, ${slow.cold.readinessChecks} checks` : ''}`,
          met: now.cold.iamBeforeReadiness.length <= 3 && now.warm.iamBeforeReadiness.length <= 3,
        };
      },
    ),
  );

  items.push(
    await measured(
      5,
      'Sweeper at scale',
      `${SIZES.sweeperGrants.toLocaleString('en')} grants ended within 60 s; none missed; none twice; no sweep past 55 s (and ${SIZES.sweeperGrantsLarge.toLocaleString('en')} within 5 min, reported)`,
      async () => {
        const sweeper = (grants: number, retryMode: 'standard' | 'adaptive') =>
          runChild<SweeperResult>(file('sweeper-at-scale.ts'), [String(grants), retryMode], {
            label: `sweeper-${grants}-${retryMode}`,
          });
        // The production retry mode (standard) first, then adaptive for comparison, then the larger run.
        const standard = await sweeper(SIZES.sweeperGrants, 'standard');
        const adaptive = await sweeper(SIZES.sweeperGrants, 'adaptive');
        const large = await sweeper(SIZES.sweeperGrantsLarge, 'standard');
        return { standard, adaptive, large };
      },
      ({ standard, adaptive, large }) => ({
        result: `all ended ${s(standard.allEndedAfterMs)} after the first sweep that saw them (${standard.sweeps.length} sweeps, longest ${s(Math.max(...standard.sweeps.map((w) => w.durationMs)))}, ${standard.sweepsOver55s} over Lambda's 55 s); missed ${missedCount(standard)}, twice ${twiceCount(standard)}; per revoke: ${callsOf(standard.callsPerRevoke)}, ${standard.iamThrottled} IAM throttles; with the SDK's adaptive retry mode instead: ${s(adaptive.allEndedAfterMs)}; ${large.grants.toLocaleString('en')} grants: all ended ${s(large.allEndedAfterMs)} after the first sweep (${large.sweeps.length} sweeps, ${large.sweepsOver55s} over 55 s), missed ${missedCount(large)}, twice ${twiceCount(large)}`,
        met:
          standard.allEndedAfterMs <= 60_000 &&
          missedCount(standard) === 0 &&
          twiceCount(standard) === 0 &&
          standard.sweepsOver55s === 0,
      }),
    ),
  );

  items.push(
    await measured(
      6,
      'Digest at scale',
      'no Scan; compose ≤ 2 s; peak RSS ≤ 256 MB',
      () =>
        runChild<DigestResult>(file('digest-at-scale.ts'), [
          String(SIZES.digestGrants),
          String(SIZES.digestSessions),
        ]),
      (r) => ({
        result: `${r.scans} Scan, ${r.queryPages} Query pages + ${r.getItems} GetItem; compose ${ms(r.compose.composeMs)} (end to end on dynalite ${s(r.compose.endToEndMs)}); peak RSS ${r.compose.peakRssMb} MB`,
        met: r.scans === 0 && r.compose.composeMs <= 2_000 && r.compose.peakRssMb <= 256,
      }),
      ['src/app/post-digest.ts', 'src/domain/digest.ts', 'src/adapters/dynamodb/digest-reader.ts'],
    ),
  );

  items.push(
    await measured(
      7,
      'Run Command fan-out',
      'final summary ≤ 5 s after the last node answers; ≤ 1 chat.postMessage per second; within Slack limits',
      () => runChild<FanOutResult>(file('run-fan-out.ts'), [String(SIZES.nodes)]),
      (r) => ({
        result: `${r.nodes} nodes: final summary after ${s(r.finalSummaryMs)}, ${s(r.finalSummaryMs - r.lastNodeAnsweredMs)} after the last node answered (at ${s(r.lastNodeAnsweredMs)}); ${r.messages.perRun} messages per run (${r.messages.threadReplies} thread replies, ${r.messages.groups} groups of identical results, ≤ ${r.messages.largest.blocks} blocks), ${r.messages.updates} updates, peak ${r.messages.peakPostsPerSecond} posts/s; ${callsOf(r.calls)}`,
        met:
          r.messages.withinLimits &&
          r.messages.peakPostsPerSecond <= 1 &&
          r.finalSummaryMs - r.lastNodeAnsweredMs <= 5_000,
      }),
      [
        'src/app/run-snippet.ts',
        'src/app/start-run.ts',
        'src/app/track-run.ts',
        'src/adapters/aws/ssm-command-runner.ts',
      ],
    ),
  );

  const totalSeconds = round((performance.now() - started) / 1000, 1);
  const results = {
    generatedAt: new Date().toISOString(),
    quick: QUICK,
    totalSeconds,
    machine: { ...machine, loadAverageAtEnd: os.loadavg().map((l) => round(l, 2)) },
    items,
  };
  writeFileSync(RESULTS, `${JSON.stringify(results, null, 2)}\n`);
  formatJson(RESULTS);
  const table = renderTable(items);
  process.stdout.write(
    `\n${table}\n\nTotal ${totalSeconds} s on ${machine.nproc} × ${machine.cpu}, ${machine.memoryGiB} GiB, Node ${machine.node}. Results: ${path.relative(ROOT, RESULTS)}\n`,
  );
  if (!QUICK) updateBenchmarksMd(results.machine, totalSeconds, results.generatedAt, items, table);
}

/** The repository's formatter, so the committed results pass `npm run lint` as written. */
function formatJson(target: string): void {
  const biome = require.resolve('@biomejs/biome/bin/biome', { paths: [ROOT] });
  spawnSync(process.execPath, [biome, 'format', '--write', target], { cwd: ROOT, stdio: 'ignore' });
}

function signed(v: number): string {
  return v > 0 ? `+${v}` : String(v);
}

function kib(bytes: number | undefined): string {
  return bytes === undefined ? '?' : Math.round(bytes / 1024).toLocaleString('en');
}

function callsOf(calls: Record<string, number>): string {
  return Object.entries(calls)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
}

function noise(runs: AckResult[]): number {
  return Math.max(...runs.flatMap((r) => [r.access, r.approve].map((x) => Math.abs(x.splitHalfP99DiffPct))));
}

function noAwsOnAck(r: AckResult): boolean {
  return [r.access, r.approve].every(
    (x) => x.callsBeforeResponse.max.IAM === 0 && x.callsBeforeResponse.max.SSM === 0,
  );
}

function callsLine(r: AckResult): string {
  const one = (x: AckResult['access']) => callsOf(x.callsBeforeResponse.max) || 'none';
  return `/access ${one(r.access)}; Approve ${one(r.approve)} (most in one request)`;
}

function missedCount(r: SweeperResult): number {
  return r.missed.grantsNotEnded + r.missed.policiesLeft + r.missed.attachmentsLeft + r.missed.sessionsOpen;
}

function twiceCount(r: SweeperResult): number {
  return (
    r.twice.grantsEndedTwice +
    r.twice.policiesDeletedTwice +
    r.twice.detachedTwice +
    r.twice.sessionsTerminatedTwice
  );
}

function renderTable(items: Item[]): string {
  const rows = items.map((i) => [
    String(i.id),
    i.name,
    i.status === 'measured' ? (i.result ?? '') : `not measured: ${i.reason ?? ''}`,
    i.target,
    i.met === null ? '—' : i.met ? 'yes' : 'NO',
  ]);
  const header = ['#', 'Measurement', 'Result', 'Target', 'Met'];
  const cell = (c: string) => c.replace(/\|/g, '\\|');
  return [
    `| ${header.join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
  ].join('\n');
}

function updateBenchmarksMd(
  machine: Record<string, unknown>,
  totalSeconds: number,
  generatedAt: string,
  items: Item[],
  table: string,
): void {
  const section = [
    START,
    `_Generated by \`npm run bench\` on ${generatedAt.slice(0, 16).replace('T', ' ')} UTC in ${totalSeconds} s; the full figures are in \`bench/results.json\`._`,
    '',
    `Machine: ${machine.nproc} × ${machine.cpu}, ${machine.memoryGiB} GiB, Node ${machine.node}, ${machine.platform}; load average ${(machine.loadAverageAtStart as number[]).join(' / ')} at the start, ${(machine.loadAverageAtEnd as number[]).join(' / ')} at the end.`,
    '',
    table,
    '',
    ...shortfalls(items),
    END,
  ].join('\n');
  const current = existsSync(BENCHMARKS_MD)
    ? readFileSync(BENCHMARKS_MD, 'utf8')
    : `# Benchmarks\n\n${START}\n${END}\n`;
  const start = current.indexOf(START);
  const end = current.indexOf(END);
  const next =
    start >= 0 && end > start
      ? `${current.slice(0, start)}${section}${current.slice(end + END.length)}`
      : `${current.trimEnd()}\n\n${section}\n`;
  writeFileSync(BENCHMARKS_MD, next);
}

function shortfalls(items: Item[]): string[] {
  const missed = items.filter((i) => i.met === false);
  const unmeasured = items.filter((i) => i.status === 'not measured');
  if (missed.length === 0 && unmeasured.length === 0) return ['Every target was met in this run.', ''];
  return [
    'Short of the target in this run:',
    '',
    ...missed.map((i) => `- **${i.id}. ${i.name}**: ${i.result} (target: ${i.target}).`),
    ...unmeasured.map((i) => `- **${i.id}. ${i.name}**: not measured: ${i.reason}.`),
    '',
  ];
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
