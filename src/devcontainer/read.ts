/**
 * Read a devcontainer.json once: the bytes that are hashed (for `aca trust`) are exactly the bytes that are parsed,
 * so a file changed between the two cannot slip through. JSON with comments and trailing commas, as the
 * specification allows, through jsonc-parser (the parser the reference CLI uses).
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { parse, printParseErrorCode, type ParseError } from 'jsonc-parser';
import { ConfigError } from '../errors.js';

/** A devcontainer.json is a few kilobytes; anything far larger is not one. */
const MAX_BYTES = 1024 * 1024;

export interface DevcontainerFile {
  path: string;
  /** sha256 of the bytes read, hex. */
  sha256: string;
  config: Record<string, unknown>;
}

function lineAndColumn(text: string, offset: number): string {
  const before = text.slice(0, offset).split('\n');
  return `${before.length}:${(before.at(-1)?.length ?? 0) + 1}`;
}

/** Pure: parse the text of `path`, naming the place and reason of the first syntax error. */
export function parseDevcontainer(path: string, text: string): Record<string, unknown> {
  const errors: ParseError[] = [];
  const value = parse(text, errors, { allowTrailingComma: true, disallowComments: false, allowEmptyContent: false }) as unknown;
  const first = errors[0];
  if (first) throw new ConfigError(`${path}:${lineAndColumn(text, first.offset)}: cannot be parsed: ${printParseErrorCode(first.error)}`);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ConfigError(`${path}: expected an object of properties`);
  return value as Record<string, unknown>;
}

export function readDevcontainer(path: string): DevcontainerFile {
  let bytes: Buffer;
  try {
    if (statSync(path).size > MAX_BYTES) throw new ConfigError(`${path}: larger than ${MAX_BYTES / 1024} KiB: not a devcontainer.json`);
    bytes = readFileSync(path);
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(`${path}: cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  return { path, sha256: createHash('sha256').update(bytes).digest('hex'), config: parseDevcontainer(path, bytes.toString('utf8')) };
}
