// The shape README's "Architecture" section draws, checked by `npm run check:deps` (part of `npm test`, so CI runs
// it): commands on top; sessions, security, monitor, gc and config below them; the engine layer at the bottom.
// A rule here is the picture in code: when one fails, move the shared piece down, do not add an exception.
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
    {
      name: 'src-not-to-commands',
      severity: 'error',
      comment: 'commands/ is the top layer (one thin module per subcommand); nothing in src/ may depend on it.',
      from: { path: '^src/' },
      to: { path: '^commands/' },
    },
    {
      name: 'engine-not-to-upper-layers',
      severity: 'error',
      comment: 'The engine layer knows containers, not sessions, security policy, monitoring, gc or configuration.',
      from: { path: '^src/engine/' },
      to: { path: '^src/(sessions|security|monitor|gc|config)/' },
    },
    {
      name: 'middle-not-to-commands',
      severity: 'error',
      comment: 'sessions, monitor and gc serve the commands; they never call back into them (also covered above).',
      from: { path: '^src/(sessions|monitor|gc)/' },
      to: { path: '^commands/' },
    },
    {
      name: 'sessions-not-to-monitor-or-gc',
      severity: 'error',
      comment: 'monitor and gc act on sessions, so sessions need nothing from them (a command hands in the recorder).',
      from: { path: '^src/sessions/' },
      to: { path: '^src/(monitor|gc)/' },
    },
    {
      name: 'security-below-config-and-sessions',
      severity: 'error',
      comment: 'The security policy pieces are used by config (to validate) and sessions (to apply); they read neither.',
      from: { path: '^src/security/' },
      to: { path: '^src/(config|sessions|monitor|gc|devcontainer|agents|mcp)/' },
    },
    {
      name: 'config-not-to-sessions',
      severity: 'error',
      comment: 'Sessions read the configuration; config/ never reads sessions (the `aca config` report is src/config-report.ts).',
      from: { path: '^src/config/' },
      to: { path: '^src/(sessions|monitor|gc)/' },
    },
    {
      name: 'engine-only-through-its-interface',
      severity: 'error',
      comment: 'Outside src/engine/, the engine is reached only through its interface: src/engine/index.ts, or its light half src/engine/choice.ts (the engine choice and errors, which the program needs on every command).',
      from: { path: '^(src|commands)/', pathNot: '^src/engine/' },
      to: { path: '^src/engine/', pathNot: '^src/engine/(index|choice)[.]ts$' },
    },
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
