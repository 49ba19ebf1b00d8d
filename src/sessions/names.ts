/** Readable generated session names: "brave-otter-3f2a". */
import { randomBytes } from 'node:crypto';

const ADJECTIVES = [
  'amber', 'bold', 'brave', 'brisk', 'calm', 'clever', 'cosy', 'crisp', 'eager', 'fair', 'gentle', 'glad', 'happy',
  'keen', 'kind', 'lively', 'lucky', 'mellow', 'nimble', 'proud', 'quick', 'quiet', 'rapid', 'sharp', 'shy', 'silent',
  'steady', 'sunny', 'swift', 'tidy', 'vivid', 'warm', 'wise', 'witty', 'young', 'zesty',
];
const NOUNS = [
  'otter', 'falcon', 'badger', 'heron', 'lynx', 'marten', 'osprey', 'panda', 'quokka', 'raven', 'salmon', 'tapir',
  'walrus', 'yak', 'zebra', 'beaver', 'condor', 'dingo', 'ferret', 'gecko', 'ibis', 'jackal', 'koala', 'lemur',
  'moose', 'newt', 'orca', 'puffin', 'robin', 'stoat', 'toucan', 'viper', 'wombat', 'fox', 'owl', 'hare',
];

function pick<T>(list: readonly T[], byte: number): T {
  return list[byte % list.length]!;
}

export function generateSessionName(): string {
  const bytes = randomBytes(4);
  return `${pick(ADJECTIVES, bytes[0]!)}-${pick(NOUNS, bytes[1]!)}-${bytes.subarray(2).toString('hex')}`;
}
