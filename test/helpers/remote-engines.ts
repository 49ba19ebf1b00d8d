/**
 * Real remote engines on this machine, for test/integration/remote.test.ts:
 *  - a second dockerd listening on 127.0.0.1 (and 127.0.0.2) with TLS, with
 *    certificates made here with openssl, its own data root and its own bridge
 *    (never `--bridge none`: dockerd then deletes the host's docker0);
 *  - an sshd on 127.0.0.1 with a generated key, reached through an `ssh` on
 *    PATH that adds its own config (OpenSSH reads ~/.ssh from the passwd
 *    entry, not $HOME, so a test cannot point it elsewhere otherwise).
 * Everything lives in one temp directory and is removed by stop(), also when
 * a start fails half-way.
 *
 * They need host tools a plain Debian machine with Docker may lack (sshd,
 * openssl): missingTools() names them, so the suite can skip loudly instead of
 * failing in its set-up. ACA_TEST_HIDE_TOOLS=sshd,openssl makes those count as
 * missing, to test exactly that.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, chmodSync, closeSync, constants, existsSync, openSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

/** The host tools both engines need: the TLS dockerd (dockerd, ip, openssl) and the ssh engine (sshd, ssh, ssh-keygen). */
export const REMOTE_ENGINE_TOOLS = ['dockerd', 'docker', 'ip', 'openssl', 'sshd', 'ssh', 'ssh-keygen'] as const;

/** Where `tool` is: on PATH, or in the sbin directories a non-root PATH may leave out. */
export function findTool(tool: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const hidden = (env.ACA_TEST_HIDE_TOOLS ?? '').split(',').map((t) => t.trim());
  if (hidden.includes(tool)) return undefined;
  const dirs = [...(env.PATH ?? '').split(':').filter(Boolean), '/usr/local/sbin', '/usr/sbin', '/sbin'];
  for (const dir of dirs) {
    const candidate = join(dir, tool);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch { /* not here */ }
  }
  return undefined;
}

export function missingTools(tools: readonly string[] = REMOTE_ENGINE_TOOLS, env: NodeJS.ProcessEnv = process.env): string[] {
  return tools.filter((tool) => !findTool(tool, env));
}

function tool(name: string): string {
  const path = findTool(name);
  if (!path) throw new Error(`${name} is not installed on this machine`);
  return path;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

const openssl = (dir: string, args: string[]) => execFileSync(tool('openssl'), args, { cwd: dir, stdio: 'pipe' });

/** A CA and a certificate it signs; `san` for a server, undefined for a client. */
export function makeCertificates(dir: string, names: { ca: string; san?: string }): void {
  mkdirSync(dir, { recursive: true });
  openssl(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca-key.pem', '-out', 'ca.pem', '-days', '2', '-subj', `/CN=${names.ca}`]);
  const sign = (prefix: string, ext: string) => {
    openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${prefix}key.pem`, '-out', `${prefix}.csr`, '-subj', `/CN=${prefix || 'client'}`]);
    writeFileSync(join(dir, `${prefix}.ext`), ext);
    openssl(dir, ['x509', '-req', '-in', `${prefix}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial', '-out', `${prefix}cert.pem`, '-days', '2', '-extfile', `${prefix}.ext`]);
  };
  sign('server-', `subjectAltName=${names.san ?? 'IP:127.0.0.1'}\nextendedKeyUsage=serverAuth\n`);
  // The client pair under the names DOCKER_CERT_PATH expects: ca.pem, cert.pem, key.pem.
  sign('', 'extendedKeyUsage=clientAuth\n');
}

export async function waitFor(what: string, check: () => boolean | Promise<boolean>, log: () => string, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} did not come up:\n${log()}`);
}

export function pingSocket(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    import('node:http').then(({ get }) => {
      const req = get({ socketPath: socket, path: '/_ping', timeout: 1000 }, (res) => { res.resume(); resolve(res.statusCode === 200); });
      req.on('error', () => resolve(false));
      req.on('timeout', () => { req.destroy(); resolve(false); });
    }, () => resolve(false));
  });
}

export interface TlsEngine {
  dir: string;
  port: number;
  /** TLS files for the client: ca.pem, cert.pem, key.pem (DOCKER_CERT_PATH). */
  certs: string;
  /** The same engine's unix socket, for loading images and inspecting. */
  socket: string;
  /** Kill the dockerd and its containerd with SIGKILL (the containers' shims stay, as after a crash), for fault injection. */
  kill(): Promise<void>;
  /** Start the dockerd again on the same data root and addresses, after kill(). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** Start a second dockerd with TLS on 127.0.0.1:PORT (server certificate for 127.0.0.1 only) and on 127.0.0.2:PORT. */
export async function startTlsEngine(images: string[]): Promise<TlsEngine> {
  const dir = mkdtempSync(join(tmpdir(), 'aca-tlsd-'));
  const certs = join(dir, 'certs');
  const bridge = `acatls${randomBytes(3).toString('hex')}`;
  // The bridges of the networks it makes (aca-isolated, sessions' own), which a stopped dockerd leaves in the kernel:
  // their routes would keep those address ranges from every dockerd for good (dockerd skips a pool that overlaps a
  // route). Not avoided with a --default-address-pool of its own: this dockerd, given one, deleted the host's docker0.
  const networkIds = new Set<string>();
  let bridgeMade = false;
  const socket = join(dir, 'd.sock');
  let daemon: ChildProcess | undefined;
  const stop = async () => {
    noteNetworks();
    if (daemon && daemon.exitCode === null && daemon.signalCode === null) {
      const running = daemon;
      const exited = new Promise((r) => running.once('exit', r));
      running.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000))]);
      if (running.exitCode === null && running.signalCode === null) running.kill('SIGKILL');
    }
    if (bridgeMade) {
      try { execFileSync(tool('ip'), ['link', 'del', bridge], { stdio: 'ignore' }); } catch { /* already gone */ }
    }
    for (const id of networkIds) {
      try { execFileSync(tool('ip'), ['link', 'del', `br-${id.slice(0, 12)}`], { stdio: 'ignore' }); } catch { /* none, or gone */ }
    }
    // Mounts left by a daemon that did not stop cleanly would make rm fail: unmount first.
    try { execFileSync('sh', ['-c', `grep -o ' ${dir}[^ ]*' /proc/mounts | sort -r | xargs -r -n1 umount -l`], { stdio: 'ignore' }); } catch { /* none */ }
    rmSync(dir, { recursive: true, force: true });
  };
  let port = 0;
  try {
    const ip = tool('ip');
    makeCertificates(certs, { ca: 'aca-test-ca', san: 'IP:127.0.0.1,DNS:localhost' });
    port = await freePort();
    execFileSync(ip, ['link', 'add', bridge, 'type', 'bridge']);
    bridgeMade = true;
    execFileSync(ip, ['addr', 'add', '10.213.77.1/24', 'dev', bridge]);
    execFileSync(ip, ['link', 'set', bridge, 'up']);
    await launch();
    for (const image of images) {
      execFileSync('sh', ['-c', `docker save "$1" | docker -H "unix://$2" load -q`, 'load', image, socket], { stdio: 'pipe' });
    }
  } catch (error) {
    await stop();
    throw error;
  }
  const kill = async () => {
    if (!daemon || daemon.exitCode !== null) return;
    noteNetworks();
    const exited = new Promise((r) => daemon!.once('exit', r));
    daemon.kill('SIGKILL');
    await exited;
    // Its containerd dies with it (the containers' shims live on). A stale pid file would make the next dockerd wait
    // for a containerd that is not there (or for whatever process now has that pid).
    const containerdPid = join(dir, 'exec', 'containerd', 'containerd.pid');
    try { process.kill(Number(readFileSync(containerdPid, 'utf8').trim()), 'SIGKILL'); } catch { /* gone */ }
    rmSync(containerdPid, { force: true });
  };
  return { dir, port, certs, socket, kill, restart: launch, stop };

  function noteNetworks(): void {
    if (!daemon || daemon.exitCode !== null || daemon.signalCode !== null) return;
    try {
      const ids = execFileSync(tool('docker'), ['-H', `unix://${socket}`, 'network', 'ls', '-q', '--no-trunc', '--filter', 'driver=bridge'], { encoding: 'utf8', timeout: 20_000 });
      for (const id of ids.split('\n').filter(Boolean)) networkIds.add(id);
    } catch { /* it does not answer: nothing to add */ }
  }

  async function launch(): Promise<void> {
    const log = join(dir, 'dockerd.log');
    const logFd = openSync(log, 'a');
    daemon = spawn(tool('dockerd'), [
      '--tlsverify', '--tlscacert', join(certs, 'ca.pem'), '--tlscert', join(certs, 'server-cert.pem'), '--tlskey', join(certs, 'server-key.pem'),
      '-H', `tcp://127.0.0.1:${port}`, '-H', `tcp://127.0.0.2:${port}`, '-H', `unix://${socket}`,
      '--data-root', join(dir, 'data'), '--exec-root', join(dir, 'exec'), '--pidfile', join(dir, 'd.pid'),
      '--bridge', bridge, '--iptables=false', '--ip-masq=false', '--ip-forward=false',
    ], { stdio: ['ignore', logFd, logFd] });
    closeSync(logFd);
    const spawned = daemon;
    await waitFor('the TLS dockerd', () => spawned.exitCode === null && pingSocket(socket), () => (existsSync(log) ? readFileSync(log, 'utf8') : ''));
  }
}

export interface SshEngine {
  port: number;
  /** Put first on PATH: an `ssh` that uses the generated key and known_hosts. */
  bin: string;
  url: string;
  stop(): Promise<void>;
}

/** An sshd on 127.0.0.1:PORT letting root in with a generated key; `docker` on its PATH for dial-stdio. */
export async function startSshd(): Promise<SshEngine> {
  const dir = mkdtempSync(join(tmpdir(), 'aca-sshd-'));
  const pidFile = join(dir, 'sshd.pid');
  const stop = async () => {
    try { process.kill(Number(readFileSync(pidFile, 'utf8').trim()), 'SIGTERM'); } catch { /* never started, or gone */ }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const sshd = tool('sshd');
    const ssh = tool('ssh');
    const keygen = tool('ssh-keygen');
    const port = await freePort();
    execFileSync(keygen, ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'hostkey')]);
    execFileSync(keygen, ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'clientkey')]);
    writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'clientkey.pub')));
    chmodSync(join(dir, 'authorized_keys'), 0o600);
    writeFileSync(join(dir, 'sshd_config'), [
      `Port ${port}`, 'ListenAddress 127.0.0.1', `HostKey ${dir}/hostkey`, `AuthorizedKeysFile ${dir}/authorized_keys`,
      'PermitRootLogin prohibit-password', 'MaxStartups 100', 'PasswordAuthentication no', 'KbdInteractiveAuthentication no', 'UsePAM no',
      `PidFile ${pidFile}`, 'StrictModes no', `SetEnv PATH=${process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin'}`, '',
    ].join('\n'));
    writeFileSync(join(dir, 'known_hosts'), `[127.0.0.1]:${port} ${readFileSync(join(dir, 'hostkey.pub'), 'utf8').split(' ').slice(0, 2).join(' ')}\n`);
    writeFileSync(join(dir, 'ssh_config'), `Host *\n  IdentityFile ${dir}/clientkey\n  IdentitiesOnly yes\n  UserKnownHostsFile ${dir}/known_hosts\n  StrictHostKeyChecking yes\n`);
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'ssh'), `#!/bin/sh\nexec ${ssh} -F ${dir}/ssh_config "$@"\n`);
    chmodSync(join(bin, 'ssh'), 0o755);
    mkdirSync('/run/sshd', { recursive: true });
    // sshd daemonises; its pid file says whom to stop.
    execFileSync(sshd, ['-f', join(dir, 'sshd_config'), '-E', join(dir, 'sshd.log')]);
    await waitFor('sshd', () => existsSync(pidFile), () => readFileSync(join(dir, 'sshd.log'), 'utf8'), 10_000);
    return { port, bin, url: `ssh://root@127.0.0.1:${port}`, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * Start both engines; if either fails, stop the one that did start before
 * rethrowing, so a failed set-up leaves no dockerd, bridge or mount behind.
 */
export async function startRemoteEngines(images: string[]): Promise<{ tls: TlsEngine; ssh: SshEngine }> {
  const [tls, ssh] = await Promise.allSettled([startTlsEngine(images), startSshd()]);
  if (tls.status === 'fulfilled' && ssh.status === 'fulfilled') return { tls: tls.value, ssh: ssh.value };
  await Promise.all([tls, ssh].map((started) => (started.status === 'fulfilled' ? started.value.stop() : undefined)));
  throw [tls, ssh].find((started): started is PromiseRejectedResult => started.status === 'rejected')!.reason;
}
