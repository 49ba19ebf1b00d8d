#!/usr/bin/env node
// aca's entry point (bin/aca starts it): run the CLI, then exit with its code once output is flushed.
import { readFileSync } from 'node:fs';

// bin/aca hands NODE_EXTRA_CA_CERTS over under another name (see there): put it back before anything reads it.
if (process.env.ACA_NODE_EXTRA_CA_CERTS !== undefined) {
  process.env.NODE_EXTRA_CA_CERTS = process.env.ACA_NODE_EXTRA_CA_CERTS;
  delete process.env.ACA_NODE_EXTRA_CA_CERTS;
}

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  // Answered before loading the CLI: scripts call `aca --version` often, and it should cost no more than node itself.
  process.stdout.write(`${JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version}\n`);
} else {
  const { main } = await import('../dist/src/cli.js');
  const code = await main(args);
  if (process.stdout.writableLength > 0) process.stdout.write('', () => process.exit(code));
  else process.exit(code);
}
