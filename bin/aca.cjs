#!/usr/bin/env node
// aca's entry point (bin/aca starts it): run the CLI, then exit with its code once output is flushed.
// CommonJS on purpose, like the build it loads (dist/bundle, see rolldown.config.mjs): Node runs CommonJS without
// starting its ES module loader, so `aca --version` costs no more than Node itself and other commands save it too.
'use strict';
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

// bin/aca hands NODE_EXTRA_CA_CERTS over under another name (see there): put it back before anything reads it.
if (process.env.ACA_NODE_EXTRA_CA_CERTS !== undefined) {
  process.env.NODE_EXTRA_CA_CERTS = process.env.ACA_NODE_EXTRA_CA_CERTS;
  delete process.env.ACA_NODE_EXTRA_CA_CERTS;
}

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  // Answered before loading the CLI: scripts call `aca --version` often.
  process.stdout.write(`${JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')).version}\n`);
} else {
  const compileCache = require('./compile-cache.cjs').useCompileCache(join(__dirname, '..', 'dist', 'bundle'), process.env);
  new Promise((resolve) => resolve(require('../dist/bundle/cli.cjs'))).then(
    async ({ main }) => {
      const code = await main(args);
      // Not from the disk guard: it leaves on its own, in the background, maybe while its state directory is being
      // removed (it would make the cache's directories again there), and the commands that spawn it make the cache.
      if (!args.includes('__disk-guard')) compileCache.write();
      if (process.stdout.writableLength > 0) process.stdout.write('', () => process.exit(code));
      else process.exit(code);
    },
    (error) => {
      // Only a missing or broken build gets here: main() itself turns every failure into an exit code.
      process.stderr.write(`aca: cannot load the CLI from ${join(__dirname, '..', 'dist')}: ${String(error.message).split('\n')[0]}\nRun: npm run build\n`);
      process.exit(1);
    },
  );
}
