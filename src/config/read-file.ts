/**
 * Read one data configuration file (JSON, YAML, package.json's "aca" key) exactly once: the bytes that are hashed
 * for `aca trust` are the bytes that are parsed, so a file swapped between the check and the use changes nothing.
 * A syntax error names the file, the line and the reason.
 */
import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { ConfigError } from '../errors.js';
import { jsonSyntaxError } from './json-syntax.js';

/** Far above any real configuration; a bigger file is not one (and is not read into memory). */
export const MAX_CONFIG_BYTES = 1024 * 1024;

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The file's bytes; a directory, a FIFO or a device is an error naming it (O_NONBLOCK: a FIFO cannot hang aca). */
export function readBytes(file: string): Buffer {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    throw new ConfigError(`${file}: cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
  }
  try {
    const stat = fstatSync(fd);
    if (stat.isDirectory()) throw new ConfigError(`${file}: is a directory, not a configuration file (remove or rename it)`);
    if (!stat.isFile()) throw new ConfigError(`${file}: is not a regular file (remove or rename it)`);
    if (stat.size > MAX_CONFIG_BYTES) throw new ConfigError(`${file}: is ${stat.size} bytes; a configuration file is at most ${MAX_CONFIG_BYTES}`);
    const buffer = Buffer.alloc(stat.size);
    let read = 0;
    while (read < buffer.length) {
      const n = readSync(fd, buffer, read, buffer.length - read, read);
      if (n === 0) break;
      read += n;
    }
    return buffer.subarray(0, read);
  } finally {
    closeSync(fd);
  }
}

function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const at = jsonSyntaxError(text);
    const where = at ? `${file}:${at.line}:${at.column}` : file;
    throw new ConfigError(`${where}: invalid JSON: ${at?.reason ?? (error as Error).message}`, { cause: error });
  }
}

async function parseYaml(text: string, file: string): Promise<unknown> {
  const yaml = await import('js-yaml');
  try {
    return yaml.load(text, { filename: file });
  } catch (error) {
    const { reason, mark } = error as InstanceType<typeof yaml.YAMLException>;
    const where = mark ? `${file}:${mark.line + 1}:${mark.column + 1}` : file;
    throw new ConfigError(`${where}: invalid YAML: ${reason ?? (error as Error).message}`, { cause: error });
  }
}

/** Parse bytes already read, by the file's name: package.json, .json, .yaml/.yml, or extension-less YAML (.acarc). */
export async function parseConfigBytes(bytes: Buffer, file: string): Promise<unknown> {
  const text = bytes.toString('utf8').replace(/^\uFEFF/, '');
  if (basename(file) === 'package.json') {
    const pkg = parseJson(text, file);
    return pkg !== null && typeof pkg === 'object' && Object.hasOwn(pkg, 'aca') ? (pkg as { aca: unknown }).aca : undefined;
  }
  const ext = extname(file);
  if (ext === '.json') return parseJson(text, file);
  if (ext === '.yaml' || ext === '.yml' || ext === '') return parseYaml(text, file);
  throw new ConfigError(`${file}: not a data configuration format (use .json, .yaml or .yml)`);
}
