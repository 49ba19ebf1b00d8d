/**
 * Standard input as aca forwards it. A regular file (`aca run -i ... < big.tar`)
 * is read in 1 MiB chunks: process.stdin reads 64 KiB at a time, and the
 * allocation and event per chunk were most of aca's own CPU when streaming a
 * file in (a third of it went away). Pipes and terminals stay process.stdin: a
 * pipe hands over at most its buffer (64 KiB) per read anyway.
 */
import { createReadStream, fstatSync } from 'node:fs';
import type { Readable } from 'node:stream';

const FILE_CHUNK = 1 << 20;

export function standardInput(): Readable & { isTTY?: boolean } {
  let isFile = false;
  try {
    isFile = fstatSync(0).isFile();
  } catch {
    // No fd 0 (closed by the caller): process.stdin copes with that on its own.
  }
  // autoClose off: fd 0 is the process's, not this stream's.
  return isFile ? createReadStream('', { fd: 0, highWaterMark: FILE_CHUNK, autoClose: false }) : process.stdin;
}
