/**
 * `--cap-add`: which Linux capabilities a session may get back after aca drops
 * them all. Pure, so the rules are unit-tested.
 */
import { UsageError } from '../errors.js';

/** Every capability the kernel knows (capabilities(7)), without the CAP_ prefix. */
const KNOWN = new Set([
  'AUDIT_CONTROL', 'AUDIT_READ', 'AUDIT_WRITE', 'BLOCK_SUSPEND', 'BPF', 'CHECKPOINT_RESTORE', 'CHOWN', 'DAC_OVERRIDE',
  'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'IPC_LOCK', 'IPC_OWNER', 'KILL', 'LEASE', 'LINUX_IMMUTABLE', 'MAC_ADMIN',
  'MAC_OVERRIDE', 'MKNOD', 'NET_ADMIN', 'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_RAW', 'PERFMON', 'SETFCAP', 'SETGID',
  'SETPCAP', 'SETUID', 'SYS_ADMIN', 'SYS_BOOT', 'SYS_CHROOT', 'SYS_MODULE', 'SYS_NICE', 'SYS_PACCT', 'SYS_PTRACE',
  'SYS_RAWIO', 'SYS_RESOURCE', 'SYS_TIME', 'SYS_TTY_CONFIG', 'SYSLOG', 'WAKE_ALARM',
]);

/**
 * Capabilities that open a way out of the sandbox or into the host's kernel:
 * mounts and namespaces (SYS_ADMIN), kernel modules, raw I/O, tracing other
 * processes, reading any file by handle (the "shocker" escape), the host's
 * clock, network reconfiguration, eBPF and perf. Each needs --unsafe.
 */
export const DANGEROUS_CAPABILITIES = [
  'SYS_ADMIN', 'SYS_MODULE', 'SYS_RAWIO', 'SYS_PTRACE', 'DAC_READ_SEARCH', 'SYS_TIME', 'NET_ADMIN', 'BPF', 'PERFMON',
  // Not named by the issue, but each is as bad: every capability at once, MAC policy, the boot, raw audit control.
  'ALL', 'MAC_ADMIN', 'MAC_OVERRIDE', 'SYS_BOOT', 'AUDIT_CONTROL',
] as const;

const DANGEROUS = new Set<string>(DANGEROUS_CAPABILITIES);

/** "net_bind_service", "CAP_NET_BIND_SERVICE" → "NET_BIND_SERVICE". */
export function normaliseCapability(value: string, flag = '--cap-add'): string {
  const name = value.trim().toUpperCase().replace(/^CAP_/, '');
  if (name !== 'ALL' && !KNOWN.has(name)) throw new UsageError(`${flag}: unknown capability "${value}" (see capabilities(7))`);
  return name;
}

export function isDangerousCapability(name: string): boolean {
  return DANGEROUS.has(name);
}

/**
 * Validate the requested capabilities. Dangerous ones are refused unless
 * `unsafe`; the ones that were allowed only because of --unsafe are returned
 * so they can be warned about and audited.
 */
export function checkCapabilities(requested: string[], unsafe: boolean, flag = '--cap-add'): { caps: string[]; overridden: string[] } {
  const caps = [...new Set(requested.map((c) => normaliseCapability(c, flag)))];
  const dangerous = caps.filter(isDangerousCapability);
  if (dangerous.length > 0 && !unsafe) {
    throw new UsageError(
      `${flag} ${dangerous[0]}: refused: the capability lets a session escape its sandbox or reach the host kernel (rule: dangerous capabilities need --unsafe)`,
      { hint: `Add --unsafe to allow it anyway; it is recorded in the audit trail.` },
    );
  }
  return { caps, overridden: dangerous };
}
