/**
 * Drive aca through a real pseudo-terminal (node-pty), as a person at a
 * terminal would: type, read the screen's byte stream, resize, press keys.
 */
import { createRequire } from 'node:module';
import type { IPty } from 'node-pty';
import { ACA_BIN } from './aca.js';

const require = createRequire(import.meta.url);

export function loadPty(): typeof import('node-pty') {
  return require('node-pty') as typeof import('node-pty');
}

export class Terminal {
  private readonly pty: IPty;
  /** Everything the terminal has shown. */
  output = '';
  private mark = 0;
  readonly exited: Promise<{ exitCode: number; signal?: number }>;

  /** `env` adds to this process's environment; a key set to undefined is left out. */
  constructor(command: string, args: string[], options: { cwd: string; cols?: number; rows?: number; env?: Record<string, string | undefined> }) {
    const pty = loadPty();
    this.pty = pty.spawn(command, args, {
      name: 'xterm-256color',
      cols: options.cols ?? 80,
      rows: options.rows ?? 24,
      cwd: options.cwd,
      env: Object.fromEntries(Object.entries({ ...process.env, TERM: 'xterm-256color', NO_COLOR: '1', ...options.env }).filter(([, v]) => v !== undefined)) as Record<string, string>,
    });
    this.pty.onData((data) => { this.output += data; });
    this.exited = new Promise((resolve) => this.pty.onExit((e) => resolve(e)));
  }

  static aca(args: string[], options: { cwd: string; cols?: number; rows?: number; env?: Record<string, string | undefined> }): Terminal {
    return new Terminal(ACA_BIN, args, options);
  }

  get pid(): number {
    return this.pty.pid;
  }

  type(text: string): void {
    this.pty.write(text);
  }

  resize(cols: number, rows: number): void {
    this.pty.resize(cols, rows);
  }

  kill(signal: NodeJS.Signals): void {
    this.pty.kill(signal);
  }

  /** Wait until the output since the last wait matches; returns the match. */
  async waitFor(pattern: RegExp | string, timeoutMs = 20_000): Promise<RegExpMatchArray> {
    const regex = typeof pattern === 'string' ? new RegExp(pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : pattern;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = this.output.slice(this.mark).match(regex);
      if (match) {
        this.mark += (match.index ?? 0) + match[0].length;
        return match;
      }
      if (Date.now() > deadline) {
        throw new Error(`timed out waiting for ${regex} in terminal output:\n${JSON.stringify(this.output.slice(-2000))}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /**
   * Run a command line in the shell and wait for its output, fenced by a marker
   * that the shell computes (so the echoed typing never matches).
   */
  async run(line: string, timeoutMs?: number): Promise<string> {
    const id = Math.floor(Math.random() * 1e6);
    this.type(`echo B${id}$((0)); ${line}; echo E${id}$((0))\r`);
    const match = await this.waitFor(new RegExp(`B${id}0\\r?\\n([\\s\\S]*?)E${id}0`), timeoutMs);
    return match[1]!.replace(/\r\n/g, '\n');
  }
}
