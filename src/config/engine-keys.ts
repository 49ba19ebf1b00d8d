/**
 * Whether a configuration file that applies here may set `engine` or `host`. Every command that opens the engine asks,
 * and loading the configuration costs about 20 ms of start-up (its validators), while most files set neither: the
 * files are found and read as loadConfig finds them (a FIFO cannot hang this), and only a file that mentions either
 * key, or could spell it escaped, or is code (which cannot be read without running it), makes the caller load them.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { userConfigDir } from '../state-dir.js';
import { configFilesIn, isExecutableConfigName, USER_FILES } from './candidates.js';
import { readBytes } from './read-file.js';

const MAY_NAME_ENGINE = /engine|host|\\[ux]/i;

export function mayNameEngine(workspace: string, env: NodeJS.ProcessEnv): boolean {
  const userDir = userConfigDir(env);
  const userFile = userDir ? USER_FILES.map((f) => join(userDir, f)).find((f) => existsSync(f)) : undefined;
  if (userFile && (isExecutableConfigName(userFile) || mentions(userFile))) return true;
  for (let dir = resolve(workspace); ; dir = dirname(dir)) {
    for (const file of configFilesIn(dir).data) {
      if (file === userFile) continue;
      const bytes = readBytes(file);
      if (file.endsWith('package.json') && !bytes.includes('"aca"')) continue;
      return MAY_NAME_ENGINE.test(bytes.toString('utf8'));
    }
    if (dirname(dir) === dir) return false;
  }
}

function mentions(file: string): boolean {
  return MAY_NAME_ENGINE.test(readBytes(file).toString('utf8'));
}
