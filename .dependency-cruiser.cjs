// The shape README's "Architecture" section draws, checked by `npm run check:deps` (part of `npm test`, so CI runs
// it): commands on top; sessions, security, monitor, gc and config below them; the engine layer at the bottom.
// A rule here is the picture in code: when one fails, move the shared piece down, do not add an exception.

/** [name, what it keeps, importer (path regex), forbidden import (path regex), importers left out, imports left out]. */
const LAYERS = [
  ['src-not-to-commands', 'commands/ is the top layer (one thin module per subcommand); nothing in src/ may depend on it.',
    '^src/', '^commands/'],
  ['engine-not-to-upper-layers', 'The engine layer knows containers, not sessions, security policy, monitoring, gc or configuration.',
    '^src/engine/', '^src/(sessions|security|monitor|gc|config)/'],
  ['sessions-not-to-monitor-or-gc', 'monitor and gc act on sessions, so sessions need nothing from them (a command hands in the recorder).',
    '^src/sessions/', '^src/(monitor|gc)/'],
  ['security-below-config-and-sessions', 'The security policy pieces are used by config (to validate) and sessions (to apply); they read neither.',
    '^src/security/', '^src/(config|sessions|monitor|gc|devcontainer|agents|mcp)/'],
  ['config-not-to-sessions', 'Sessions read the configuration; config/ never reads sessions (the `aca config` report is src/config-report.ts).',
    '^src/config/', '^src/(sessions|monitor|gc)/'],
  ['sessions-not-from-below', 'The pieces sessions share with those below them (labels, paths, errors, owner checks) sit in src/ beside them; the layers and pieces below never import a session module.',
    '^src/((engine|security|config)/|(errors|parse|security|state-dir|host|labels|batches)[.]ts$)', '^src/sessions/'],
  ['engine-only-through-its-interface',
    'Outside src/engine/, the engine is reached only through its interface: src/engine/index.ts, or its light half src/engine/choice.ts (the engine choice and errors, which the program needs on every command).',
    '^(src|commands)/', '^src/engine/', '^src/engine/', '^src/engine/(index|choice)[.]ts$'],
];

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'An import cycle blurs which module is lower; move what both need into the lower one.',
      from: {},
      to: { circular: true },
    },
    ...LAYERS.map(([name, comment, from, to, fromNot, toNot]) => ({
      name,
      severity: 'error',
      comment,
      from: { path: from, ...(fromNot ? { pathNot: fromNot } : {}) },
      to: { path: to, ...(toNot ? { pathNot: toNot } : {}) },
    })),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.json'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
