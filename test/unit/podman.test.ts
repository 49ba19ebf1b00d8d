import { describe, expect, it } from 'vitest';
import {
  catatonitExecFailure, cleanExecFailure, dockerImageName, dockerStepLine, inspectForDocker, isNameConflict, matchesAllLabels, podmanCommitQuery,
  podmanTmpfsOptions, securityOptionsForDocker, summaryForDocker,
} from '../../src/engine/podman.js';
import { queryString } from '../../src/engine/http.js';
import type { ContainerSummary } from '../../src/engine/types.js';
import type { ContainerInspect } from '../../src/engine/types.js';

describe('Podman compatibility', () => {
  it('turns tmpfs uid=/gid= into Podman\'s U option, leaving other options alone', () => {
    expect(podmanTmpfsOptions('rw,nosuid,size=10,uid=1000,gid=1000,mode=0700')).toBe('rw,nosuid,size=10,mode=0700,U');
    expect(podmanTmpfsOptions('rw,mode=1777')).toBe('rw,mode=1777');
  });
  it('shows image names as Docker does', () => {
    expect(dockerImageName('localhost/aca-test/busybox:latest')).toBe('aca-test/busybox:latest');
    expect(dockerImageName('docker.io/library/debian:bookworm')).toBe('debian:bookworm');
    expect(dockerImageName('docker.io/me/tool:1')).toBe('me/tool:1');
    expect(dockerImageName('quay.io/x/y')).toBe('quay.io/x/y');
  });
  it('recognises a taken name answered with 500', () => {
    expect(isNameConflict(500, 'creating container storage: the container name "aca-x" is already in use by 12ab')).toBe(true);
    expect(isNameConflict(500, 'no space left on device')).toBe(false);
  });
  it('reads capabilities from libpod\'s bounding set, and no-new-privileges as Docker writes it', () => {
    const info = {
      Config: { Image: 'localhost/a:1' },
      HostConfig: { CapDrop: ['CAP_CHOWN', 'CAP_KILL'], CapAdd: [], SecurityOpt: ['no-new-privileges', 'seccomp=x'] },
    } as unknown as ContainerInspect;
    expect(inspectForDocker(info, null).HostConfig).toMatchObject({ CapDrop: ['ALL'], CapAdd: [], SecurityOpt: ['no-new-privileges:true', 'seccomp=x'] });
    expect(inspectForDocker(info, ['CAP_CHOWN']).HostConfig).toMatchObject({ CapDrop: ['ALL'], CapAdd: ['CHOWN'] });
    expect(inspectForDocker(info, undefined).HostConfig.CapDrop).toEqual(['CHOWN', 'KILL']);
    expect(inspectForDocker(info, null).Config.Image).toBe('a:1');
  });
  it('finds catatonit\'s failure to start the command', () => {
    expect(catatonitExecFailure('ERROR (catatonit:6): failed to exec pid1: No such file or directory\n')).toBe('No such file or directory');
    expect(catatonitExecFailure('some output of the command\n')).toBeUndefined();
  });
  it('keeps only the command\'s part of an exec failure', () => {
    expect(cleanExecFailure('Error: runc: exec failed: x: executable file not found in $PATH\nError: read unixpacket @->/proc/self/fd/14/attach: read: connection reset by peer\n'))
      .toBe('runc: exec failed: x: executable file not found in $PATH');
  });
  it('writes build steps as Docker does', () => {
    expect(dockerStepLine('STEP 2/4: RUN echo hi')).toBe('Step 2/4 : RUN echo hi');
    expect(dockerStepLine('Step 2/4 : RUN echo hi')).toBe('Step 2/4 : RUN echo hi');
  });
  it('puts the health into a list entry\'s Status, as Docker does', () => {
    const summary = { Id: 'a', Names: ['/x'], Image: 'localhost/i:1', State: 'running', Status: 'Up 5 seconds', Created: 0, Labels: {} } as ContainerSummary;
    expect(summaryForDocker(summary, 'healthy')).toMatchObject({ Image: 'i:1', Status: 'Up 5 seconds (healthy)' });
    expect(summaryForDocker(summary, 'starting').Status).toBe('Up 5 seconds (health: starting)');
    expect(summaryForDocker(summary, '').Status).toBe('Up 5 seconds');
  });
  it('says rootless where Docker would', () => {
    expect(securityOptionsForDocker(['name=seccomp,profile=default'], { rootless: true, seccompEnabled: true }))
      .toEqual(['name=seccomp,profile=default', 'name=rootless']);
    expect(securityOptionsForDocker(null, undefined)).toEqual([]);
  });
  it('checks every label filter itself', () => {
    expect(matchesAllLabels({ 'aca.managed': 'true', 'aca.session': 'home-t1' }, ['aca.managed=true', 'aca.session=fg-t1'])).toBe(false);
    expect(matchesAllLabels({ 'aca.managed': 'true', 'aca.session': 'a' }, ['aca.managed=true', 'aca.session'])).toBe(true);
    expect(matchesAllLabels(null, ['aca.managed=true'])).toBe(false);
  });
  it('commits labels as LABEL changes', () => {
    expect(queryString(podmanCommitQuery({ container: 'c', repo: 'r', tag: 't', labels: { 'a.b': 'x y' } })))
      .toBe('container=c&repo=r&tag=t&pause=true&changes=LABEL%20a.b%3D%22x%20y%22');
  });
  it('names ulimits and the session network as Docker does', () => {
    const info = {
      Config: { Image: 'i' },
      HostConfig: { NetworkMode: 'bridge', Ulimits: [{ Name: 'RLIMIT_NOFILE', Soft: 1, Hard: 2 }] },
      NetworkSettings: { Networks: { 'aca-s1': {} } },
    } as unknown as ContainerInspect;
    const host = inspectForDocker(info, undefined).HostConfig;
    expect(host.NetworkMode).toBe('aca-s1');
    expect(host.Ulimits).toEqual([{ Name: 'nofile', Soft: 1, Hard: 2 }]);
  });
});

describe('a Podman without the init its containers.conf names', () => {
  it('is recognised from the create error, and the fix names an installed static init or catatonit', async () => {
    const { missingPodmanInit, missingInitFix } = await import('../../src/engine/podman.js');
    expect(missingPodmanInit('container-init binary not found on the host: stat /usr/libexec/podman/catatonit: no such file or directory')).toBe('/usr/libexec/podman/catatonit');
    expect(missingPodmanInit('some other create error')).toBeUndefined();
    expect(missingInitFix(['/usr/bin/tini-static'])).toContain('init_path = "/usr/bin/tini-static"');
    expect(missingInitFix([])).toMatch(/^Install catatonit/);
  });
});
