/**
 * `aca exec`: run a command in a running session with the same stream and
 * exit-code rules as `aca run`.
 */
import type { Context } from '../context.js';
import type { Engine } from '../engine/index.js';
import { awaitExecEnd, cleanExecFailure, forwardInput, pumpOutput, startFailureVerdict } from '../engine/index.js';
import { AcaError, EXIT, UsageError } from '../errors.js';
import { formatDetachKeys, localTerminalType, runTerminal } from '../terminal.js';
import { commandDidNotStart, signalExitCode, terminalStartFailureVerdict, trapSignals, type ForwardedSignal } from './foreground.js';
import { reportExecOom } from './oom.js';
import { resolveSession } from './resolve.js';
import { appendAudit } from '../audit.js';
import { execLauncher } from '../security/secrets.js';
import { checkSessionUser } from '../security.js';
import { LABEL } from '../labels.js';
import { ISOLATION_LABEL } from '../security/profile.js';
import { execSignaller } from './exec-signal.js';

export interface ExecRequest {
  session: string;
  command: string[];
  env: Array<[string, string]>;
  workdir?: string | undefined;
  user?: string | undefined;
  interactive: boolean;
  tty: boolean;
  detachKeys?: Buffer | undefined;
  /** How the audit trail names it: `aca shell SESSION` is a shell, not an exec. */
  action?: 'exec' | 'shell';
}

export async function execInSession(ctx: Context, request: ExecRequest): Promise<number> {
  if (request.command.length === 0) throw new UsageError('exec: missing COMMAND (usage: aca exec SESSION -- COMMAND...)');
  if (request.tty && !ctx.stdin.isTTY) throw new UsageError('-t needs a terminal on stdin; drop -t when piping or in CI');
  const engine = await ctx.engine();
  const session = await resolveSession(engine, request.session);
  if (session.summary.State !== 'running') {
    throw new AcaError(`session ${session.name} is not running (${session.summary.State})`, { hint: `Start it with: aca start ${session.name}` });
  }
  // The same rule as aca run: never root on a writable host workspace.
  if (request.user) checkSessionUser(request.user, '-u', (session.summary.Labels?.[LABEL.workspaceMode] ?? 'bind') as 'bind');
  appendAudit(ctx.env, { session: session.name, action: request.action ?? 'exec', args: process.argv.slice(2) }, (m) => ctx.out.warn(m));
  // --secret-env secrets reach exec'd commands the same way: read from /run/secrets by a launcher, never via the config.
  const secretEnv = (session.summary.Labels?.['aca.secret-env'] ?? '').split(',').filter(Boolean);
  // With a terminal, the local terminal's type, unless -e TERM=... names one.
  const env = request.tty && !request.env.some(([key]) => key === 'TERM') ? [['TERM', localTerminalType(ctx.env)], ...request.env] : request.env;
  let execId = '';
  const signaller = execSignaller(engine, { id: session.id, gvisor: session.summary.Labels?.[ISOLATION_LABEL] === 'gvisor' }, () => execId, execLauncher(secretEnv, request.command), request.user);
  execId = await engine.createExec(session.id, {
    cmd: signaller.command,
    env: env.map(([k, v]) => `${k}=${v}`),
    workdir: request.workdir,
    user: request.user,
    tty: request.tty,
    stdin: request.interactive,
    ...(request.detachKeys?.length ? { detachKeys: formatDetachKeys(request.detachKeys) } : {}),
  });

  let signalled: ForwardedSignal | undefined;
  const untrap = trapSignals(
    (signal) => {
      signalled = signal;
      void signaller.signal(signal).catch(() => false);
    },
    () => void signaller.signal('SIGKILL').catch(() => false),
  );
  let stopInput: (() => void) | undefined;
  try {
    // An OOM kill is told by the engine's event in this window (see oom.ts).
    const startedSeconds = Date.now() / 1000;
    const { socket, head } = await engine.startExec(execId, request.tty);
    if (request.tty) {
      const { how, held } = await runTerminal({
        stdin: ctx.stdin,
        stdout: ctx.out.stdout as never,
        socket,
        head,
        resize: (columns, rows) => engine.resizeExec(execId, columns, rows),
        detachKeys: request.detachKeys ?? Buffer.alloc(0),
        input: request.interactive,
        holdFirst: terminalStartFailureVerdict,
      });
      if (how === 'detached') {
        ctx.out.info(`\naca: detached from ${session.name}; the command keeps running in it`);
        return 0;
      }
      if (signalled) return signalExitCode(signalled);
      const { ExitCode } = await engine.inspectExec(execId);
      return await execExit(ctx, engine, session, request.command[0]!, { exitCode: ExitCode, held, startedSeconds });
    }
    // Without -i, close our side at once: the engine has no input to wait for.
    if (request.interactive) stopInput = forwardInput(ctx.stdin, socket);
    else socket.end();
    const pumped = pumpOutput(
      socket,
      head,
      { stdout: ctx.out.stdout as never, stderr: ctx.out.stderr as never },
      !request.tty,
      // The engine writes its own "cannot start" text into the stream (and the secret launcher its shell's).
      { holdFirst: (payload) => startFailureVerdict(payload) },
    );
    // Under gVisor the engine may drop an exec whose session stops meanwhile without closing its stream (exec-end.ts).
    const end = await awaitExecEnd(engine, execId, pumped.then(() => undefined));
    if (end !== 'stream') socket.destroy();
    const { held } = await pumped;
    if (end === 'gone') {
      if (signalled) return signalExitCode(signalled);
      ctx.out.error(`${session.name} stopped while the command was ending, and the engine dropped the command without its exit code`);
      return EXIT.engineFailure;
    }
    const { ExitCode } = await engine.inspectExec(execId);
    if (signalled) return signalExitCode(signalled);
    return await execExit(ctx, engine, session, request.command[0]!, { exitCode: ExitCode, held, startedSeconds });
  } finally {
    stopInput?.();
    untrap();
  }
}

/**
 * How an exec ends for the user: one line in aca's words when the held first output says the command could not
 * start (Docker says 126 for both cases, Podman 126 or 127; a missing command is 127, as in a shell), an OOM
 * report, else the command's own exit code.
 */
async function execExit(
  ctx: Context,
  engine: Engine,
  session: { id: string; name: string },
  command: string,
  end: { exitCode: number | null | undefined; held: Buffer | undefined; startedSeconds: number },
): Promise<number> {
  if (end.held) {
    const failure = end.exitCode !== 0 ? commandDidNotStart(command, session.name, cleanExecFailure(end.held.toString('utf8'))) : undefined;
    if (failure) {
      ctx.out.error(failure.reason!);
      return failure.exitCode;
    }
    ctx.out.stdout.write(end.held);
  }
  if (end.exitCode === 137) await reportExecOom(ctx, engine, session, end.startedSeconds);
  return end.exitCode ?? 0;
}

