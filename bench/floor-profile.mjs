// aca's hardened host config for a session, as the floor-*.mjs scripts send it (what src/security/profile.ts and
// src/sessions/spec.ts make of `aca run` with the defaults): one copy, so the floors cannot drift apart.
const TMPFS = { '/tmp': 'rw,nosuid,nodev,exec,size=858993459,mode=1777', '/run': 'rw,nosuid,nodev,noexec,size=67108864,mode=0755' };

/** `home`: a named volume at /home/aca (a detached session's); without it, a tmpfs (a foreground run's). */
export function profileHostConfig(workspace, { home } = {}) {
  return {
    Init: true, ReadonlyRootfs: true, CapDrop: ['ALL'], SecurityOpt: ['no-new-privileges'],
    Tmpfs: home ? TMPFS : { ...TMPFS, '/home/aca': 'rw,nosuid,nodev,exec,size=858993459' },
    Memory: 4 * 2 ** 30, MemorySwap: 4 * 2 ** 30, NanoCpus: 2e9, CpuShares: 512, PidsLimit: 1024,
    Ulimits: [{ Name: 'nofile', Soft: 8192, Hard: 16384 }, { Name: 'nproc', Soft: 8192, Hard: 8192 }],
    IpcMode: 'private', CgroupnsMode: 'private', NetworkMode: 'aca-isolated',
    Binds: [`${workspace}:/workspace`, ...(home ? [`${home}:/home/aca`] : [])],
  };
}
