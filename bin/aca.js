#!/usr/bin/env node
// The aca executable: run the CLI, then exit with its code once output is flushed.
import { readFileSync } from 'node:fs';

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
