/**
 * The terminal machinery shared by `run -t`, `exec -t`, `shell` and `attach`:
 * the local terminal in raw mode (always restored), its size sent at start and
 * on every resize, keystrokes (Ctrl-C, Ctrl-Z, Ctrl-D included) passed through
 * as bytes, and a detach key sequence that leaves the session running.
 */
import type { Duplex, Readable, Writable } from 'node:stream';
import { createRequire } from 'node:module';
import { UsageError } from './errors.js';

const require = createRequire(import.meta.url);

export const DEFAULT_DETACH_KEYS = 'ctrl-p,ctrl-q';

/** Control keys written with a symbol: ctrl-@ is NUL, ctrl-[ is ESC, ... */
const CTRL_SYMBOLS: Record<string, number> = { '@': 0, '[': 27, '\\': 28, ']': 29, '^': 30, _: 31 };

/** Docker's format: comma-separated keys, each "ctrl-X" or a single character. */
/** The local terminal's type, given to programs inside so they draw for it. */
export function localTerminalType(env: NodeJS.ProcessEnv): string {
  return env.TERM || 'xterm-256color';
}

export function parseDetachKeys(spec: string, flag = '--detach-keys'): Buffer {
  const bytes = spec.split(',').map((key) => {
    const ctrl = /^ctrl-(.)$/i.exec(key.trim());
    if (ctrl) {
      const c = ctrl[1]!.toLowerCase();
      if (c >= 'a' && c <= 'z') return c.charCodeAt(0) - 96;
      if (c in CTRL_SYMBOLS) return CTRL_SYMBOLS[c]!;
    } else if (key.length === 1) {
      return key.charCodeAt(0);
    }
    throw new UsageError(`${flag}: invalid key "${key}" in "${spec}" (use e.g. ctrl-p,ctrl-q)`);
  });
  return Buffer.from(bytes);
}

/**
 * The engine's own form of a key sequence. The engine watches attach and exec
 * streams for its detach keys (default Ctrl-P Ctrl-Q) and would cut the stream
 * on them; aca hands it the same sequence, which aca itself never forwards.
 */
export function formatDetachKeys(keys: Buffer): string {
  const symbolOf = (byte: number) => Object.keys(CTRL_SYMBOLS).find((c) => CTRL_SYMBOLS[c] === byte);
  return [...keys]
    .map((byte) => {
      if (byte >= 1 && byte <= 26) return `ctrl-${String.fromCharCode(byte + 96)}`;
      const symbol = symbolOf(byte);
      return symbol === undefined ? String.fromCharCode(byte) : `ctrl-${symbol}`;
    })
    .join(',');
}

/**
 * Finds the detach sequence in typed input. Bytes that might start the
 * sequence are held back until the next byte decides; the rest pass through.
 */
export class DetachMatcher {
  private matched = 0;

  constructor(private readonly keys: Buffer) {}

  feed(chunk: Buffer): { forward: Buffer; detach: boolean } {
    if (this.keys.length === 0) return { forward: chunk, detach: false };
    const out: number[] = [];
    for (const byte of chunk) {
      if (byte === this.keys[this.matched]) {
        this.matched += 1;
        if (this.matched === this.keys.length) return { forward: Buffer.from(out), detach: true };
        continue;
      }
      // A broken prefix was typing after all: pass it on.
      for (let i = 0; i < this.matched; i++) out.push(this.keys[i]!);
      this.matched = byte === this.keys[0] ? 1 : 0;
      if (this.matched === 0) out.push(byte);
    }
    return { forward: Buffer.from(out), detach: false };
  }
}

type TtyIn = Readable & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };
type TtyOut = Writable & { columns?: number; rows?: number; isTTY?: boolean };

export interface TerminalOptions {
  stdin: TtyIn;
  stdout: TtyOut;
  socket: Duplex;
  head: Buffer;
  /** Send the local size to the engine. */
  resize: (columns: number, rows: number) => Promise<void>;
  detachKeys: Buffer;
  /** Forward keystrokes (false for attach to a session without stdin). */
  input: boolean;
  /**
   * Hold the first output back while this says it may be a launcher's "cannot start" line (undefined: not decided
   * yet; see engine/start-failure.ts): the caller then says it in aca's words, or writes it after all.
   */
  holdFirst?: (payload: Buffer) => boolean | undefined;
}

export interface TerminalEnd {
  how: 'ended' | 'detached';
  /** The first output, held back because it is (or still may be) a launcher's line; not written to the terminal. */
  held?: Buffer;
}

let rawModeHolders = 0;
let restoreOnExit: (() => void) | undefined;

/** Raw mode on, with a restore that runs on every way out, including a crash. */
function enterRawMode(stdin: TtyIn): () => void {
  if (!stdin.isTTY || !stdin.setRawMode) return () => {};
  stdin.setRawMode(true);
  // libuv's raw mode keeps output processing (\n → \r\n); the session's own
  // terminal already did that, and full-screen programs need bare \n kept bare.
  // Leaving raw mode restores the saved settings, output processing included.
  if (stdin === process.stdin) {
    const { spawnSync } = require('node:child_process') as typeof import('node:child_process');
    spawnSync('stty', ['-opost'], { stdio: ['inherit', 'ignore', 'ignore'] });
  }
  rawModeHolders += 1;
  if (!restoreOnExit) {
    restoreOnExit = () => { try { stdin.setRawMode?.(false); } catch { /* terminal gone */ } };
    process.once('exit', restoreOnExit);
  }
  let restored = false;
  return () => {
    if (restored) return;
    restored = true;
    rawModeHolders -= 1;
    if (rawModeHolders === 0) stdin.setRawMode?.(false);
  };
}

/** Run a terminal session until the remote side ends or the user detaches. */
export function runTerminal(options: TerminalOptions): Promise<TerminalEnd> {
  const { stdin, stdout, socket } = options;
  return new Promise((resolve, reject) => {
    const restore = options.input ? enterRawMode(stdin) : () => {};
    const matcher = new DetachMatcher(options.detachKeys);
    let finished = false;
    let holding = options.holdFirst !== undefined;
    let pending = Buffer.alloc(0);

    const sendSize = () => {
      const columns = stdout.columns ?? 80;
      const rows = stdout.rows ?? 24;
      options.resize(columns, rows).catch(() => { /* the session may be ending */ });
    };
    const onInput = (chunk: Buffer) => {
      const { forward, detach } = matcher.feed(chunk);
      if (forward.length > 0) socket.write(forward);
      if (detach) finish('detached');
    };
    const onOutput = (chunk: Buffer) => {
      if (holding) {
        pending = Buffer.concat([pending, chunk]);
        const verdict = options.holdFirst!(pending);
        if (verdict !== false) return; // a launcher's line, or not decided yet: keep it back
        holding = false;
        chunk = pending;
        pending = Buffer.alloc(0);
      }
      if (!stdout.write(chunk)) {
        socket.pause();
        stdout.once('drain', () => socket.resume());
      }
    };
    const onEnd = () => finish('ended');
    const onError = (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNRESET' || error.code === 'EPIPE') finish('ended');
      else { cleanup(); reject(error); }
    };
    const cleanup = () => {
      stdin.off('data', onInput);
      stdout.off('resize', sendSize);
      socket.off('data', onOutput);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      if (options.input) stdin.pause();
      restore();
    };
    function finish(how: 'ended' | 'detached') {
      if (finished) return;
      finished = true;
      cleanup();
      if (how === 'detached') socket.destroy();
      const end: TerminalEnd = pending.length > 0 ? { how, held: pending } : { how };
      // Let the last output reach the terminal before the caller prints or exits.
      if (stdout.writableLength > 0) stdout.write('', () => resolve(end));
      else resolve(end);
    }

    if (options.head.length > 0) onOutput(options.head);
    socket.on('data', onOutput);
    socket.on('end', onEnd);
    socket.on('close', onEnd);
    socket.on('error', onError);
    stdout.on('resize', sendSize);
    // Keystrokes wait for the first size to land, so what runs first sees the real window.
    options.resize(stdout.columns ?? 80, stdout.rows ?? 24).catch(() => {}).finally(() => {
      if (!options.input || finished) return;
      stdin.on('data', onInput);
      stdin.resume();
    });
  });
}
