import { describe, expect, it } from 'vitest';
import { missingBaseError, usableBases } from '../../src/build-base.js';
import { elapsed, fit } from '../../src/build-progress.js';

describe('the base of a first build', () => {
  const tags = ['aca-test/debian:bookworm', 'localhost/ubuntu:24.04', 'aca/base:full', 'aca-test/busybox:latest', 'alpine:3.20', 'mirror.example/library/debian:bookworm-slim', 'corp/builder:noble'];

  it('lists local images that look like a base of the right family, never aca\'s own', () => {
    expect(usableBases(tags, 'full')).toEqual(['aca-test/debian:bookworm', 'corp/builder:noble', 'localhost/ubuntu:24.04', 'mirror.example/library/debian:bookworm-slim']);
    expect(usableBases(tags, 'egress')).toEqual(usableBases(tags, 'full'));
    expect(usableBases(tags, 'alpine')).toEqual(['alpine:3.20']);
  });

  it('says what failed in one line and the ways out in the next', () => {
    const error = missingBaseError('aca/base:full', 'debian:bookworm-slim', 'no such host', 'full', ['aca-test/debian:bookworm']);
    expect(error.message).toBe('cannot build aca/base:full: its base debian:bookworm-slim is not on the engine and cannot be pulled (no such host)');
    expect(error.hint).toContain('--base IMAGE, or base: IMAGE in aca\'s configuration; aca build --base IMAGE builds it once.');
    expect(error.hint).toContain('Local images that look usable: aca-test/debian:bookworm.');
    expect(missingBaseError('aca/base:alpine', 'alpine:3.20', 'x', 'alpine', []).hint).toContain('No Alpine image is on the engine');
  });

  it('keeps progress lines short and timed', () => {
    expect(elapsed(4_200)).toBe('4s');
    expect(elapsed(125_000)).toBe('2m05s');
    expect(fit('Step 3/9 : RUN  apt-get   install', 12)).toBe('Step 3/9 : …');
    expect(fit('short', 12)).toBe('short');
  });
});
