import { formatBundleWarning, type BundleWarning } from './unbundlable.js';

/**
 * Errors that code inside a bundle throws when it needed to stay a package in node_modules: a
 * bare "__dirname is not defined" or "Cannot find module '#standard-fonts/Helvetica'" says nothing
 * about the fix. Node's own messages, as Node 20 words them.
 */
const BUNDLE_SYMPTOM =
  /__(?:dirname|filename) is not defined|Cannot find (?:module|package)|Dynamic require of|ERR_(?:MODULE_NOT_FOUND|DLOPEN_FAILED)|\.node\b|Could not load the "[^"]+" module|ENOENT[^\n]*[/\\](?:\.fngate|functions)[/\\]/;

/** Node refuses to load a native addon that is not context-aware on a second thread (or after a reload). */
const NOT_CONTEXT_AWARE = /Module did not self-register|not context.aware|Loading non.context.aware native module/i;

/**
 * A line to add to an error a function threw (while loading or running) when it looks like bundled
 * code that needed to stay a package: the build's own warning about that package when there is
 * one, else the package the stack points into. undefined when the error has nothing to do with it.
 */
export function failureHint(
  fn: string,
  failure: { readonly message: string; readonly stack?: string | undefined },
  warnings: readonly BundleWarning[],
  external: 'all' | readonly string[],
): string | undefined {
  const text = `${failure.message}\n${failure.stack ?? ''}`;
  if (NOT_CONTEXT_AWARE.test(text)) {
    return (
      'a native addon that is not context-aware can be loaded only once in a process, and fngate runs every function on worker threads ' +
      '(several at once, new ones after a reload or when one is replaced): use a version of the package built with Node-API (N-API), which loads on any number of threads'
    );
  }
  if (!BUNDLE_SYMPTOM.test(text)) return undefined;
  const warning = warnings.find((w) => text.includes(`node_modules/${w.package}/`)) ?? (warnings.length === 1 ? warnings[0] : undefined);
  if (warning !== undefined) return formatBundleWarning(fn, warning, external);
  const pkg = packageInStack(failure.stack);
  if (pkg === undefined) return undefined;
  const list = external === 'all' ? [pkg] : [...new Set([...external, pkg])];
  return (
    `the error comes from ${pkg}, bundled into the function: a package that reads files or loads native addons from its own directory, ` +
    `or resolves modules at run time, must stay in node_modules: in config.yaml under functions.${fn}: external: [${list.join(', ')}]`
  );
}

/** The package of the first stack frame inside node_modules. */
function packageInStack(stack: string | undefined): string | undefined {
  const match = /node_modules\/((?:@[^/\s]+\/)?[^/\s]+)\//.exec(stack ?? '');
  return match?.[1];
}
