// aca's build as bin/aca runs it: tsc compiles to dist/ (what the tests import), then rolldown joins those modules
// into dist/bundle/. Node 20 spends about 0.3 ms per module file resolving, reading and compiling it, and `aca run`
// loads about a hundred, in every process (issue 16: many sessions started at once are many aca processes).
// Each command's lazily imported code stays in chunks of its own; commander (CommonJS, needed by every command) is
// joined in; other packages stay in node_modules, loaded where they are used.
import { builtinModules } from 'node:module';

const nodeBuiltin = new Set([...builtinModules, ...builtinModules.map((name) => `node:${name}`)]);
const joinedIn = /^commander(\/|$)/;

export default {
  input: { cli: 'dist/commands/cli.js' },
  platform: 'node',
  // A module imported lazily by one command and eagerly by another is simply loaded eagerly there: not worth a line.
  onLog: (level, log, report) => { if (log.code !== 'INEFFECTIVE_DYNAMIC_IMPORT') report(level, log); },
  external: (id) => nodeBuiltin.has(id) || (!id.startsWith('.') && !id.startsWith('/') && !joinedIn.test(id)),
  output: {
    dir: 'dist/bundle',
    format: 'esm',
    entryFileNames: '[name].js',
    chunkFileNames: '[name]-[hash].js',
    sourcemap: false,
    // Chunk names carry content hashes: without this, every build would leave the last one's chunks behind.
    cleanDir: true,
  },
};
