// V8's compiled code for aca's bundle, kept between runs (issue 16: every aca command is a new Node process, and
// compiling the bundle's chunks was about 14 ms of the CPU of each `aca run`).
//
// Node 22 and later do this themselves (module.enableCompileCache); on Node 20 aca compiles its own chunks with
// vm.Script and V8's cached data. A cache entry is code this process will run, so it is only ever read from a
// directory inside aca's state directory (which no session can mount: security/resolve.ts refuses it as a mount
// source), owned by this user and private to it. An entry is named by the SHA-1 of the source it was made from, so
// a changed chunk never meets an old entry, and V8 itself rejects one made by another V8 or with other flags; a
// rejected or missing entry is made again when the command ends. NODE_DISABLE_COMPILE_CACHE turns it off, as in
// Node 22.
'use strict';
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const Module = require('node:module');
const { homedir } = require('node:os');
const { dirname, isAbsolute, join } = require('node:path');
const vm = require('node:vm');

/** Entries kept in one Node version's directory before the oldest go (about 10 KB each; one build is ~50). */
const MAX_ENTRIES = 400;
const KEEP_ENTRIES = 200;

/** aca's state directory, by the rule of src/state-dir.ts stateDir (test/unit/compile-cache.test.ts holds them together). */
function stateDir(env) {
  const base = env.XDG_STATE_HOME && isAbsolute(env.XDG_STATE_HOME) ? env.XDG_STATE_HOME : join(env.HOME || homedir(), '.local', 'state');
  return join(base, 'aca');
}

function cacheDir(env) {
  return join(stateDir(env), 'compile-cache', process.version);
}

/** Whether DIR is a directory (not a link to one) of this user that no one else can write. */
function isPrivateDir(dir) {
  try {
    const stat = fs.lstatSync(dir);
    return stat.isDirectory() && stat.uid === process.geteuid() && (stat.mode & 0o022) === 0;
  } catch {
    return false;
  }
}

const mainModule = require.main;

/** The `require` Node gives a CommonJS module, as far as the bundle uses it. */
/**
 * Make DIR (private) unless aca's state directory belongs to someone else (sudo keeping the user's HOME: a
 * directory of root's in there would shut the user's own cache out); whether DIR is now private to this user.
 */
function makeDir(env, dir) {
  try {
    if (fs.statSync(stateDir(env)).uid !== process.geteuid()) return false;
  } catch {
    // No state directory yet: it is made now, this user's.
  }
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  return isPrivateDir(dir);
}

function makeRequire(mod) {
  const requireHere = (id) => mod.require(id);
  requireHere.resolve = (request, options) => Module._resolveFilename(request, mod, false, options);
  requireHere.main = mainModule;
  requireHere.cache = Module._cache;
  return requireHere;
}

function prune(dir) {
  const names = fs.readdirSync(dir).filter((name) => name.endsWith('.bin'));
  if (names.length <= MAX_ENTRIES) return;
  const aged = names.map((name) => {
    try {
      return { name, mtime: fs.statSync(join(dir, name)).mtimeMs };
    } catch {
      return { name, mtime: 0 };
    }
  }).sort((a, b) => a.mtime - b.mtime);
  for (const { name } of aged.slice(0, aged.length - KEEP_ENTRIES)) fs.rmSync(join(dir, name), { force: true });
}

/**
 * Compile the modules under BUNDLE_DIR with the cache from now on. Call write() when the command is done: it writes
 * the entries this process had to make (none, usually). `used` counts the entries V8 accepted (Node 20 only).
 */
function useCompileCache(bundleDir, env) {
  const none = { write() {}, used: 0 };
  if (env.NODE_DISABLE_COMPILE_CACHE || typeof process.geteuid !== 'function') return none;
  const dir = cacheDir(env);
  if (typeof Module.enableCompileCache === 'function') {
    try {
      if (makeDir(env, dir)) Module.enableCompileCache(dir);
    } catch {
      // No state directory to write: compile as usual.
    }
    // Node writes its entries at exit; flushing first keeps them when the command ends by process.exit().
    return { write() { Module.flushCompileCache?.(); }, used: 0 };
  }
  const readable = isPrivateDir(dir);
  const toWrite = [];
  const cache = { write: writeCompileCache, used: 0 };
  const compile = Module.prototype._compile;
  const inBundle = bundleDir.endsWith('/') ? bundleDir : `${bundleDir}/`;
  Module.prototype._compile = function compileWithCache(content, filename) {
    // Node 20's V8 drops what import() needs from code it reads back from a cache (ERR_VM_DYNAMIC_IMPORT_CALLBACK_
    // MISSING): the few chunks that import a package lazily are compiled as usual. So is a chunk that starts with
    // #!, which is valid only at the very start of a script, not inside the function wrapper below.
    if (!filename.startsWith(inBundle) || content.includes('import(') || content.startsWith('#!')) return compile.apply(this, arguments);
    const entry = join(dir, `${createHash('sha1').update(content).digest('hex')}.bin`);
    let cachedData;
    if (readable) {
      try {
        cachedData = fs.readFileSync(entry);
      } catch {
        // Not made yet.
      }
    }
    const script = new vm.Script(Module.wrap(content), { filename, cachedData });
    if (cachedData === undefined || script.cachedDataRejected) toWrite.push({ script, entry });
    else cache.used += 1;
    return script.runInThisContext().call(this.exports, this.exports, makeRequire(this), this, filename, dirname(filename));
  };
  return cache;

  function writeCompileCache() {
    if (toWrite.length === 0) return;
    try {
      if (!makeDir(env, dir)) return;
      // Made now, after the command ran: the entry then holds the functions it compiled on the way too.
      for (const { script, entry } of toWrite) {
        const draft = `${entry}.${process.pid}`;
        try {
          fs.writeFileSync(draft, script.createCachedData(), { mode: 0o600 });
          fs.renameSync(draft, entry); // a reader sees no entry or a whole one
        } finally {
          fs.rmSync(draft, { force: true });
        }
      }
      prune(dir);
    } catch {
      // A full or read-only disk: the next command compiles as usual.
    }
  }
}

module.exports = { useCompileCache, stateDir, cacheDir };
