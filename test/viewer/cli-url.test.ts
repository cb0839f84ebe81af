// The simulator's sweep prints, for every failing seed, the viewer URL that opens it;
// the URL's hash alone replays the failing run to the trace hash the sweep reported.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { Replay } from '../../sim/replay/replay.js';
import { parseHash } from '../../sim/replay/runSpec.js';

const CLI = path.join(process.cwd(), 'build/sim/cli.js');
// Seeds 10..11, 3 members, 2 s, Raft only, appendWithoutTruncate: seed 10 fails, seed 11 passes.
const SWEEP = ['--seeds', '10..11', '--nodes', '3', '--time-ms', '2000', '--workload', 'none', '--bug', 'appendWithoutTruncate'];

interface SeedLine {
  readonly seed?: number;
  readonly trace_hash?: string;
  readonly summary?: boolean;
  readonly failing?: readonly { readonly seed: number; readonly viewer: string }[];
}

test('a failing seed in a sweep comes with the viewer URL that replays it', (t) => {
  const text = spawnSync(process.execPath, [CLI, ...SWEEP], { encoding: 'utf8' });
  t.is(text.status, 1, 'the sweep found the planted bug');
  const printed = /seed 10 FAILED[^\n]*\n {2}reproduce: [^\n]*\n {2}viewer: (file:\/\/\S+)/.exec(text.stdout);
  if (printed?.[1] === undefined) return t.fail(`no viewer line under the failing seed:\n${text.stdout}`);
  const url = new URL(printed[1]);
  t.true(url.pathname.endsWith('/build/viewer/index.html'), 'the page npm run viewer builds');
  t.is(url.hash, '#seed=10&nodes=3&time-ms=2000&workload=none&bug=appendWithoutTruncate');
  t.notRegex(text.stdout, /seed 11 FAILED/);

  const json = spawnSync(process.execPath, [CLI, ...SWEEP, '--json'], { encoding: 'utf8' });
  const lines = json.stdout.trim().split('\n').map((line) => JSON.parse(line) as SeedLine);
  const summary = lines.find((line) => line.summary === true);
  const failing = summary?.failing?.[0];
  if (failing === undefined) return t.fail('the summary lists the failing seed');
  t.is(failing.viewer, printed[1]);
  const parsed = parseHash(new URL(failing.viewer).hash);
  if (!parsed.ok) return t.fail(parsed.error);
  const replay = new Replay(parsed.spec);
  replay.seek(Number.MAX_SAFE_INTEGER);
  t.is(replay.frame().traceHash, lines.find((line) => line.seed === 10)?.trace_hash ?? 'missing', 'the URL replays the failing run');
  t.true(replay.frame().violations.length > 0, 'and shows its violation');
});
