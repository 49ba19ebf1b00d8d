/**
 * Real remote engines on this machine, for test/integration/remote.test.ts:
 *  - a second dockerd listening on 127.0.0.1 (and 127.0.0.2) with TLS, with
 *    certificates made here with openssl, its own data root and its own bridge
 *    (never `--bridge none`: dockerd then deletes the host's docker0);
 *  - an sshd on 127.0.0.1 with a generated key, reached through an `ssh` on
 *    PATH that adds its own config (OpenSSH reads ~/.ssh from the passwd
 *    entry, not $HOME, so a test cannot point it elsewhere otherwise).
 * Everything lives in one temp directory and is removed by stop().
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, closeSync, existsSync, openSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

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

const openssl = (dir: string, args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });

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

async function waitFor(what: string, check: () => boolean | Promise<boolean>, log: () => string, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} did not come up:\n${log()}`);
}

function pingSocket(socket: string): Promise<boolean> {
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
  makeCertificates(certs, { ca: 'aca-test-ca', san: 'IP:127.0.0.1,DNS:localhost' });
  const port = await freePort();
  const bridge = `acatls${randomBytes(3).toString('hex')}`;
  execFileSync('ip', ['link', 'add', bridge, 'type', 'bridge']);
  const socket = join(dir, 'd.sock');
  let daemon: ChildProcess | undefined;
  const stop = async () => {
    if (daemon && daemon.exitCode === null) {
      const exited = new Promise((r) => daemon!.once('exit', r));
      daemon.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000))]);
      if (daemon.exitCode === null) daemon.kill('SIGKILL');
    }
    try { execFileSync('ip', ['link', 'del', bridge], { stdio: 'ignore' }); } catch { /* already gone */ }
    // Mounts left by a daemon that did not stop cleanly would make rm fail: unmount first.
    try { execFileSync('sh', ['-c', `grep -o ' ${dir}[^ ]*' /proc/mounts | sort -r | xargs -r -n1 umount -l`], { stdio: 'ignore' }); } catch { /* none */ }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    execFileSync('ip', ['addr', 'add', '10.213.77.1/24', 'dev', bridge]);
    execFileSync('ip', ['link', 'set', bridge, 'up']);
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

  async function launch(): Promise<void> {
    const log = join(dir, 'dockerd.log');
    const logFd = openSync(log, 'a');
    daemon = spawn('dockerd', [
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
  const port = await freePort();
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'hostkey')]);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'clientkey')]);
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'clientkey.pub')));
  chmodSync(join(dir, 'authorized_keys'), 0o600);
  writeFileSync(join(dir, 'sshd_config'), [
    `Port ${port}`, 'ListenAddress 127.0.0.1', `HostKey ${dir}/hostkey`, `AuthorizedKeysFile ${dir}/authorized_keys`,
    'PermitRootLogin prohibit-password', 'MaxStartups 100', 'PasswordAuthentication no', 'KbdInteractiveAuthentication no', 'UsePAM no',
    `PidFile ${dir}/sshd.pid`, 'StrictModes no', `SetEnv PATH=${process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin'}`, '',
  ].join('\n'));
  writeFileSync(join(dir, 'known_hosts'), `[127.0.0.1]:${port} ${readFileSync(join(dir, 'hostkey.pub'), 'utf8').split(' ').slice(0, 2).join(' ')}\n`);
  writeFileSync(join(dir, 'ssh_config'), `Host *\n  IdentityFile ${dir}/clientkey\n  IdentitiesOnly yes\n  UserKnownHostsFile ${dir}/known_hosts\n  StrictHostKeyChecking yes\n`);
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'ssh'), `#!/bin/sh\nexec /usr/bin/ssh -F ${dir}/ssh_config "$@"\n`);
  chmodSync(join(bin, 'ssh'), 0o755);
  mkdirSync('/run/sshd', { recursive: true });
  // sshd daemonises; its pid file says whom to stop.
  execFileSync('/usr/sbin/sshd', ['-f', join(dir, 'sshd_config'), '-E', join(dir, 'sshd.log')]);
  const pidFile = join(dir, 'sshd.pid');
  await waitFor('sshd', () => existsSync(pidFile), () => readFileSync(join(dir, 'sshd.log'), 'utf8'), 10_000);
  const stop = async () => {
    try { process.kill(Number(readFileSync(pidFile, 'utf8').trim()), 'SIGTERM'); } catch { /* gone */ }
    rmSync(dir, { recursive: true, force: true });
  };
  return { port, bin, url: `ssh://root@127.0.0.1:${port}`, stop };
}
