#!/usr/bin/env node
// The aca executable: run the CLI, then exit with its code once output is flushed.
import { main } from '../dist/src/cli.js';

const code = await main(process.argv.slice(2));
if (process.stdout.writableLength > 0) process.stdout.write('', () => process.exit(code));
else process.exit(code);
