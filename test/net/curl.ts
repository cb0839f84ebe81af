// Real curl against a server's client port, and its answer normalized for comparing
// Tern with etcd: the framing headers both servers choose freely (Date, Content-Length
// versus chunked, keep-alive) are dropped; what a client reads is kept.
import { execFile, spawn } from 'node:child_process';

export interface CurlStep {
  readonly path: string;
  /** The request body (sent with --data-binary); none if absent. */
  readonly body?: string;
  readonly method?: string;
  readonly headers?: readonly string[];
}

export interface CurlAnswer {
  /** curl's exit code (52: the server closed the connection without an answer). */
  readonly exit: number;
  readonly status: number;
  /** The headers a client reads, in a fixed order, lower-cased names. */
  readonly headers: readonly string[];
  /** The body, with the trailers curl prints after it. */
  readonly body: string;
}

const IGNORED_HEADERS = new Set(['date', 'content-length', 'transfer-encoding', 'connection', 'keep-alive']);

export function curl(endpoint: string, step: CurlStep, timeoutMs = 20_000): Promise<CurlAnswer> {
  const args = ['-s', '-i', '-X', step.method ?? 'POST', `http://${endpoint}${step.path}`, '-H', 'Expect:', '--max-time', String(timeoutMs / 1000)];
  for (const header of step.headers ?? []) args.push('-H', header);
  if (step.body !== undefined) args.push('--data-binary', '@-');
  return new Promise((resolve) => {
    const child = execFile('curl', args, { maxBuffer: 64 * 1024 * 1024, encoding: 'latin1' }, (error, stdout) => {
      const exit = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      resolve({ exit, ...parseHttp(stdout) });
    });
    child.stdin?.end(step.body ?? '', 'latin1');
  });
}

function parseHttp(text: string): Omit<CurlAnswer, 'exit'> {
  const split = text.indexOf('\r\n\r\n');
  if (split < 0) return { status: 0, headers: [], body: text };
  const [statusLine = '', ...lines] = text.slice(0, split).split('\r\n');
  const headers = lines
    .map((line) => {
      const colon = line.indexOf(':');
      return `${line.slice(0, colon).toLowerCase()}: ${line.slice(colon + 1).trim()}`;
    })
    .filter((line) => !IGNORED_HEADERS.has(line.slice(0, line.indexOf(':'))))
    .sort();
  return { status: Number(statusLine.split(' ')[1] ?? 0), headers, body: text.slice(split + 4) };
}

/**
 * A streaming request (curl -N): read until the body holds `lines` lines (or the
 * time runs out), then curl is stopped; the answer so far. Waits on the output, never
 * on a fixed delay.
 */
export function curlStream(endpoint: string, step: CurlStep, lines: number, onFirstLine?: () => void, timeoutMs = 20_000): Promise<CurlAnswer> {
  const args = ['-s', '-i', '-N', '-X', 'POST', `http://${endpoint}${step.path}`, '-H', 'Expect:', '--data-binary', '@-'];
  const child = spawn('curl', args, { stdio: ['pipe', 'pipe', 'ignore'] });
  let out = '';
  return new Promise((resolve) => {
    const stop = (): void => { child.kill('SIGTERM'); };
    const timer = setTimeout(stop, timeoutMs);
    child.stdout.setEncoding('latin1');
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
      const body = out.indexOf('\r\n\r\n') < 0 ? '' : out.slice(out.indexOf('\r\n\r\n') + 4);
      const seen = body.split('\n').length - 1;
      if (seen >= 1) onFirstLine?.();
      if (seen >= lines) stop();
    });
    child.once('close', () => {
      clearTimeout(timer);
      resolve({ exit: 0, ...parseHttp(out) });
    });
    child.stdin.end(step.body ?? '', 'latin1');
  });
}
