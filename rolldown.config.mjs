// aca's build as bin/aca runs it: tsc compiles to dist/ (what the tests import), then rolldown joins those modules
// into CommonJS chunks in dist/bundle/. Node 20 spends a fraction of a millisecond resolving, reading and compiling
// each module file, and `aca run` loaded about 75 of them, in every process (issue 16: many sessions started at once
// are many aca processes); CommonJS chunks are loaded by require(), which spares every command Node's ES module
// loader (about 25 ms of CPU less per `aca run` than the same chunks as ES modules). Each command's lazily imported
// code stays in chunks of its own; commander (needed by every command) is joined in; other packages stay in
// node_modules, loaded where they are used (ES-module-only ones by import() or require(esm), as in dist/).
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
    format: 'cjs',
    // .cjs: package.json says "type": "module".
    entryFileNames: '[name].cjs',
    chunkFileNames: '[name]-[hash].cjs',
    sourcemap: false,
    // Comments are for src/; without them there is less to read and parse, and a dynamic import() written in a
    // comment cannot make bin/compile-cache.cjs pass over a chunk.
    comments: false,
    // Chunk names carry content hashes: without this, every build would leave the last one's chunks behind.
    cleanDir: true,
  },
};
