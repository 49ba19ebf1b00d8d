/** Commands the client runs: in the foreground with a timeout, or in the background under a handle to poll and stop. */
import type { Engine } from '../engine/index.js';
import { AcaError } from '../errors.js';
import { startCommand, type Execution } from './exec.js';
import type { Environment, Environments } from './environments.js';

export interface CommandResult {
  handle?: string;
  status: 'running' | 'exited' | 'timed out' | 'stopped';
  exit_code: number | null;
  seconds: number;
  stdout: string;
  stderr: string;
  stdout_bytes: number;
  stderr_bytes: number;
}

interface Job {
  env: Environment;
  command: string;
  run: Execution;
  status: CommandResult['status'];
  exitCode: number | undefined;
}

function result(run: Execution, status: CommandResult['status'], exitCode: number | undefined, handle?: string): CommandResult {
  return {
    ...(handle ? { handle } : {}),
    status,
    exit_code: exitCode ?? null,
    seconds: Math.round((Date.now() - run.startedAt) / 100) / 10,
    stdout: run.stdout.text(),
    stderr: run.stderr.text(),
    stdout_bytes: run.stdout.bytes,
    stderr_bytes: run.stderr.bytes,
  };
}

export class Jobs {
  private readonly jobs = new Map<string, Job>();
  private next = 1;

  constructor(private readonly engine: () => Promise<Engine>, private readonly environments: Environments) {}

  async runForeground(env: Environment, command: string, options: { workdir: string; cap: number; timeoutMs: number; envVars?: string[] }): Promise<CommandResult> {
    const run = await startCommand(await this.engine(), env.id, command, { workdir: options.workdir, cap: options.cap, env: options.envVars });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), options.timeoutMs); });
    const outcome = await Promise.race([run.finished, timedOut]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      await run.kill();
      this.environments.log(env, `timed out after ${options.timeoutMs / 1000}s, killed: ${JSON.stringify(command)}`);
      return result(run, 'timed out', undefined);
    }
    this.environments.log(env, `exit ${outcome ?? '?'}: ${JSON.stringify(command)}`);
    return result(run, 'exited', outcome);
  }

  async startBackground(env: Environment, command: string, options: { workdir: string; cap: number }): Promise<CommandResult> {
    const run = await startCommand(await this.engine(), env.id, command, options);
    const handle = `job-${this.next++}`;
    const job: Job = { env, command, run, status: 'running', exitCode: undefined };
    this.jobs.set(handle, job);
    this.environments.log(env, `started ${handle} in the background: ${JSON.stringify(command)}`);
    void run.finished.then((code) => {
      if (job.status !== 'running') return;
      job.status = 'exited';
      job.exitCode = code;
      this.environments.log(env, `${handle} exit ${code ?? '?'}: ${JSON.stringify(command)}`);
    }, () => {});
    return result(run, 'running', undefined, handle);
  }

  private job(env: Environment, handle: string): Job {
    const job = this.jobs.get(handle);
    if (!job || job.env.name !== env.name) throw new AcaError(`no background command "${handle}" in ${env.name}`);
    return job;
  }

  status(env: Environment, handle: string): CommandResult {
    const job = this.job(env, handle);
    return result(job.run, job.status, job.exitCode, handle);
  }

  async stop(env: Environment, handle: string): Promise<CommandResult> {
    const job = this.job(env, handle);
    if (job.status === 'running') {
      job.status = 'stopped';
      await job.run.kill();
      this.environments.log(env, `${handle} stopped: ${JSON.stringify(job.command)}`);
    }
    return result(job.run, job.status, job.exitCode, handle);
  }
}
