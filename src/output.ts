/**
 * Where output goes and how it looks. stdout is data only; progress and
 * diagnostics go to stderr. Colour only on a terminal and never with NO_COLOR;
 * spinners only when stderr is a terminal.
 */
import { createRequire } from 'node:module';
import type { ChalkInstance } from 'chalk';

// chalk is loaded on first use (require(esm), Node >= 20.19): run and exec rarely colour anything.
const require = createRequire(import.meta.url);
const makeChalk = (enabled: boolean): ChalkInstance => {
  const { Chalk } = require('chalk') as typeof import('chalk');
  return new Chalk({ level: enabled ? 1 : 0 });
};

const tolerant = new WeakSet<object>();

/**
 * A reader that went away (`aca ... 2>&1 | head`) must not end aca mid-command: Node raises EPIPE on the stream as an
 * uncaught error, and a foreground run would exit without removing its session. What aca writes after that goes
 * nowhere; the command carries on to its end, clean-up included. (Whether a command's own output may still go
 * somewhere is the output pump's to judge: engine/streams.ts ends a run whose stdout reader went away.)
 */
function tolerateClosedReader(stream: NodeJS.WritableStream): void {
  if (tolerant.has(stream)) return;
  tolerant.add(stream);
  stream.on('error', (error: NodeJS.ErrnoException) => {
    // Any other failure (a full disk) stays what it was: reported by whoever else listens (the output pump), else
    // thrown as before this listener existed.
    if (error.code !== 'EPIPE' && (stream as NodeJS.WritableStream & NodeJS.EventEmitter).listenerCount('error') === 1) throw error;
  });
}

export interface OutputOptions {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  noColor?: boolean;
  quiet?: boolean;
  debug?: boolean;
}

export function colorEnabled(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv, noColor = false): boolean {
  if (noColor || (env.NO_COLOR !== undefined && env.NO_COLOR !== '')) return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  return Boolean(stream.isTTY) && env.TERM !== 'dumb';
}

export interface Spinner {
  text: string;
  succeed(text?: string): void;
  fail(text?: string): void;
  stop(): void;
}

export class Output {
  readonly stdout: OutputOptions['stdout'];
  readonly stderr: OutputOptions['stderr'];
  readonly quiet: boolean;
  readonly debugEnabled: boolean;
  private readonly interactiveStderr: boolean;
  private readonly colorOut: boolean;
  private readonly colorErr: boolean;
  private chalkOut: ChalkInstance | undefined;
  private chalkErr: ChalkInstance | undefined;

  constructor(options: OutputOptions) {
    this.stdout = options.stdout;
    this.stderr = options.stderr;
    this.quiet = options.quiet ?? false;
    this.debugEnabled = options.debug ?? false;
    this.colorOut = colorEnabled(options.stdout, options.env, options.noColor);
    this.colorErr = colorEnabled(options.stderr, options.env, options.noColor);
    this.interactiveStderr = Boolean(options.stderr.isTTY) && !(options.env.CI === 'true') && options.env.TERM !== 'dumb';
    tolerateClosedReader(options.stdout);
    tolerateClosedReader(options.stderr);
  }

  /** Whether progress is drawn live on a terminal (a spinner) rather than written as lines. */
  get progressOnTerminal(): boolean {
    return this.interactiveStderr && !this.quiet;
  }

  /** Colours for stdout (tables) and stderr (diagnostics), each decided by its own stream. */
  get color(): ChalkInstance {
    return (this.chalkOut ??= makeChalk(this.colorOut));
  }

  get errColor(): ChalkInstance {
    return (this.chalkErr ??= makeChalk(this.colorErr));
  }

  /** A line of data on stdout. */
  data(line: string): void {
    this.stdout.write(line.endsWith('\n') ? line : `${line}\n`);
  }

  json(value: unknown): void {
    this.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** Progress and information on stderr; silenced by -q. */
  info(line: string): void {
    if (!this.quiet) this.stderr.write(`${line}\n`);
  }

  warn(line: string): void {
    this.stderr.write(`${this.errColor.yellow('aca: warning:')} ${line}\n`);
  }

  error(line: string, hint?: string): void {
    this.stderr.write(`${this.errColor.red('aca:')} ${line}\n`);
    if (hint) this.stderr.write(`${this.errColor.dim(hint)}\n`);
  }

  debug(line: string): void {
    if (this.debugEnabled) this.stderr.write(`${this.errColor.dim(`debug: ${line}`)}\n`);
  }

  /** An ora spinner on a terminal; plain lines (or nothing with -q) elsewhere. */
  async spinner(text: string): Promise<Spinner> {
    if (this.interactiveStderr && !this.quiet) {
      const { default: ora } = await import('ora');
      const spin = ora({ text, stream: this.stderr as NodeJS.WriteStream, color: 'cyan' }).start();
      return {
        get text() { return spin.text; },
        set text(value: string) { spin.text = value; },
        succeed: (t) => spin.succeed(t),
        fail: (t) => spin.fail(t),
        stop: () => spin.stop(),
      };
    }
    const info = (line: string) => this.info(line);
    let current = text;
    info(text);
    return {
      get text() { return current; },
      set text(value: string) {
        if (value !== current) info(value);
        current = value;
      },
      succeed: (t) => { if (t) info(t); },
      fail: (t) => { if (t) this.stderr.write(`${t}\n`); },
      stop: () => {},
    };
  }
}

/** The columns a string takes on a terminal: colour codes take none, wide characters two. */
export function visibleWidth(text: string): number {
  return stringWidth(text);
}

// Loaded on first use, as chalk is: only tables need it.
let measure: ((text: string) => number) | undefined;
const stringWidth = (text: string) => (measure ??= (require('string-width') as typeof import('string-width')).default)(text);

// eslint-disable-next-line no-control-regex
const ANSI_OR_CHAR = /\x1b\[[0-9;?]*[A-Za-z]|[\s\S]/gu;

/** Cut `text` to at most `width` visible columns, keeping its colour codes (and resetting them when cut). */
export function truncateVisible(text: string, width: number): string {
  if (visibleWidth(text) <= width) return text;
  let used = 0;
  let out = '';
  let coloured = false;
  for (const [token] of text.matchAll(ANSI_OR_CHAR)) {
    if (token.startsWith('\x1b[')) {
      out += token;
      coloured = true;
      continue;
    }
    const w = stringWidth(token);
    if (used + w > Math.max(0, width - 1)) break;
    out += token;
    used += w;
  }
  return `${out}${width > 0 ? '…' : ''}${coloured ? '\x1b[0m' : ''}`;
}

/** Align rows as columns on what is visible (colour codes do not shift the rest); the last column is not padded. */
export function alignColumns(rows: string[][], gap = '   '): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => { widths[i] = Math.max(widths[i] ?? 0, visibleWidth(cell)); });
  return rows
    .map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell + ' '.repeat(widths[i]! - visibleWidth(cell)))).join(gap).trimEnd())
    .join('\n');
}

/** Render rows as aligned columns under headers, docker-style. */
export function table(headers: string[], rows: string[][]): string {
  return alignColumns([headers, ...rows]);
}

export function humanDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}

export function humanBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value >= 10 || unit === 0 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}
