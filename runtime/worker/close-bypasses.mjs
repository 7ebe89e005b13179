// Runs on every function thread before the function's bundle loads (see worker-entry.mjs).
// fngate is not a sandbox: a function runs in the gateway's process, as its user, and can read
// whatever that user can (/proc/self/environ, files on disk). What fngate does promise is that a
// function's process.env, and the env of processes it spawns, hold only its declared variables.
// Plain JavaScript reached around that in cheap-to-close ways, closed here:
// - process.binding() hands out Node's internal bindings: spawn_sync without envPairs runs a child
//   with the live environment of the whole process, the gateway's secrets included;
// - a nested Worker started with --expose-internals gets internalBinding(), the same bindings;
// - inspector Session.connectToMainThread() evaluates code on the gateway thread (its
//   process.env, and through queryObjects every other function's env);
// - Session.connect() on the function's own thread reaches the same bindings through the
//   [[Scopes]] of Node's own functions (child_process.spawnSync's module holds spawn_sync);
// - inspector.open() starts the process-wide debugger, whose main-thread target a WebSocket
//   client then drives.
// (A SIGUSR1 to the process would open that debugger too: the CLI listens for it, see cli.ts.)
// Debugging is unaffected: `fngate dev --inspect` opens the inspector on the main thread, which
// attaches to these threads from outside.
import inspector from 'node:inspector';
import { createRequire, syncBuiltinESMExports } from 'node:module';

const require = createRequire(import.meta.url);

/** A function that throws, saying what is refused and why. */
function refusal(what, why) {
  return function refused() {
    throw new Error(`${what} is not available to fngate functions: ${why}`);
  };
}

/** Replaces a property for good: code running later cannot put the original back. */
function lock(target, key, value) {
  Object.defineProperty(target, key, { value, writable: false, configurable: false, enumerable: false });
}

const INTERNALS = "it reaches Node's internal bindings, which ignore the function's declared env (a process spawned through them sees the gateway's environment)";

export function closeBypasses() {
  lock(process, 'binding', refusal('process.binding()', INTERNALS));
  lock(process, '_linkedBinding', refusal('process._linkedBinding()', INTERNALS));
  const DEBUG = 'to debug a function, use fngate dev --inspect';
  lock(inspector.Session.prototype, 'connectToMainThread', refusal('inspector Session.connectToMainThread()', `it runs code on the gateway thread; ${DEBUG}`));
  lock(inspector.Session.prototype, 'connect', refusal('inspector Session.connect()', `${INTERNALS}; ${DEBUG}`));
  lock(inspector, 'open', refusal('inspector.open()', `it opens a debugger for the whole process, the gateway thread included; ${DEBUG}`));

  // A proxy rather than a subclass: a subclass's prototype chain leads back to the original.
  const threads = require('node:worker_threads');
  const Original = threads.Worker;
  const Worker = new Proxy(Original, {
    construct(target, args, newTarget) {
      const execArgv = args[1]?.execArgv;
      if (Array.isArray(execArgv) && execArgv.some((arg) => /^--expose[-_]internals(=|$)/.test(String(arg)))) {
        refusal('a Worker with --expose-internals', INTERNALS)();
      }
      return Reflect.construct(target, args, newTarget);
    },
  });
  // An instance's `constructor` must not lead back to the original either.
  lock(Original.prototype, 'constructor', Worker);
  lock(threads, 'Worker', Worker);
  // `import { Worker } from 'node:worker_threads'` reads the ES module's copy of the exports.
  syncBuiltinESMExports();
}
