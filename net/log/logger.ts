// The member's log, in the two forms etcd 3.4 writes (--logger):
//   zap      — one JSON object per line, keys in zap's order: level, ts, caller, msg,
//              then the fields: {"level":"info","ts":"2026-12-03T05:39:49.885Z",
//              "caller":"etcdserver/server.go:2069","msg":"…","cluster-id":"…"};
//   capnslog — etcd 3.4's default plain form: "2026-12-03 05:39:32.680404 I | pkg: text".
// Tern's caller is the module that logs (e.g. "bin/tern"), not a file:line: it names
// the same thing without a stack walk per line.
//
// Every line is written synchronously, so a line logged just before process.exit is
// not lost (the refusals at start are exactly such lines).

import { closeSync, openSync, writeSync } from 'node:fs';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'dpanic' | 'panic' | 'fatal';
export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'dpanic', 'panic', 'fatal'];

export type LoggerKind = 'zap' | 'capnslog';

/** A field's value as zap would encode it. */
export type LogValue = string | number | boolean | readonly string[] | readonly number[];
export type LogFields = Readonly<Record<string, LogValue>>;

export interface LogSink {
  write(line: string): void;
  close(): void;
}

/** capnslog's one-letter levels; zap's dpanic/panic/fatal are all critical there. */
const CAPNSLOG_LETTER: Readonly<Record<LogLevel, string>> = {
  debug: 'D', info: 'I', warn: 'W', error: 'E', dpanic: 'C', panic: 'C', fatal: 'C',
};

export interface LoggerOptions {
  readonly kind: LoggerKind;
  /** Lines below this level are dropped. */
  readonly level: LogLevel;
  readonly sinks: readonly LogSink[];
  /** The wall clock (tests pass a fixed one). */
  readonly now?: () => Date;
}

export class Logger {
  private readonly minimum: number;

  constructor(private readonly options: LoggerOptions, private readonly caller = 'tern') {
    this.minimum = LOG_LEVELS.indexOf(options.level);
    if (this.minimum < 0) throw new Error(`unknown log level ${options.level}`);
    if (options.sinks.length === 0) throw new Error('a logger needs at least one sink');
  }

  get kind(): LoggerKind {
    return this.options.kind;
  }

  /** The same log, naming another module as the caller. */
  at(caller: string): Logger {
    return new Logger(this.options, caller);
  }

  /**
   * One line. `plain`: the capnslog text when it should differ from msg + fields (etcd
   * words some messages differently in the two forms).
   */
  log(level: LogLevel, msg: string, fields: LogFields = {}, plain?: string): void {
    if (LOG_LEVELS.indexOf(level) < this.minimum) return;
    const [now, micros] = this.options.now === undefined ? wallClock() : [this.options.now(), 0];
    const line = this.options.kind === 'zap'
      ? JSON.stringify({ level, ts: zapTime(now), caller: this.caller, msg, ...fields })
      : `${capnslogTime(now, micros)} ${CAPNSLOG_LETTER[level]} | ${this.caller}: ${plain ?? withFields(msg, fields)}`;
    for (const sink of this.options.sinks) sink.write(`${line}\n`);
  }

  debug(msg: string, fields?: LogFields, plain?: string): void { this.log('debug', msg, fields, plain); }
  info(msg: string, fields?: LogFields, plain?: string): void { this.log('info', msg, fields, plain); }
  warn(msg: string, fields?: LogFields, plain?: string): void { this.log('warn', msg, fields, plain); }
  error(msg: string, fields?: LogFields, plain?: string): void { this.log('error', msg, fields, plain); }
  fatal(msg: string, fields?: LogFields, plain?: string): void { this.log('fatal', msg, fields, plain); }

  close(): void {
    for (const sink of this.options.sinks) sink.close();
  }
}

/** capnslog has no fields: they follow the text as key=value. */
function withFields(msg: string, fields: LogFields): string {
  const pairs = Object.entries(fields).map(([k, v]) => `${k}=${Array.isArray(v) ? `[${v.join(' ')}]` : String(v)}`);
  return pairs.length === 0 ? msg : `${msg} (${pairs.join(', ')})`;
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** zap's ISO8601TimeEncoder: local time, milliseconds, the zone as Z or ±hhmm. */
export function zapTime(d: Date): string {
  const offset = -d.getTimezoneOffset();
  const zone = offset === 0 ? 'Z' : `${offset > 0 ? '+' : '-'}${pad(Math.floor(Math.abs(offset) / 60))}${pad(Math.abs(offset) % 60)}`;
  return `${localDate(d)}T${localClock(d)}.${pad(d.getMilliseconds(), 3)}${zone}`;
}

/** capnslog's pretty formatter: "2006-01-02 15:04:05.000000", local time; `micros` the microseconds past the millisecond. */
export function capnslogTime(d: Date, micros = 0): string {
  return `${localDate(d)} ${localClock(d)}.${pad(d.getMilliseconds(), 3)}${pad(micros, 3)}`;
}

/** Now, to the microsecond (Date alone has milliseconds). */
function wallClock(): [Date, number] {
  const epochMicros = Math.floor((performance.timeOrigin + performance.now()) * 1000);
  return [new Date(Math.floor(epochMicros / 1000)), epochMicros % 1000];
}

const localDate = (d: Date): string => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
const localClock = (d: Date): string => `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;

/** A standard stream, written synchronously (fd 1 or 2). */
export function streamSink(fd: 1 | 2): LogSink {
  return {
    write: (line) => { writeAll(fd, line); },
    close: () => undefined,
  };
}

/** A file, opened for appending as zap opens its output paths. */
export function fileSink(path: string): LogSink {
  const fd = openSync(path, 'a');
  return {
    write: (line) => { writeAll(fd, line); },
    close: () => { closeSync(fd); },
  };
}

/** writeSync may write part of a line to a pipe; the rest follows (EAGAIN: tried again, a bounded number of times). */
function writeAll(fd: number, line: string): void {
  const bytes = Buffer.from(line);
  let offset = 0;
  for (let attempt = 0; offset < bytes.length && attempt < 10_000; attempt++) {
    try {
      offset += writeSync(fd, bytes, offset);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') return;
    }
  }
}
