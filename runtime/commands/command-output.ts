import type { Logger } from '../common/logger.js';

/** How a command reports: a usage error exits 2 with the usage after it, a failure exits 1. */
export function commandOutput(command: string, usage: string): { usageError(message: string): void; failWith(message: string): void } {
  return {
    usageError(message) {
      process.stderr.write(`fngate ${command}: ${message}\n\n${usage}\n`);
      process.exitCode = 2;
    },
    failWith(message) {
      process.stderr.write(`fngate ${command}: ${message}\n`);
      process.exitCode = 1;
    },
  };
}

/**
 * The runtime's log for a command that serves one function (invoke, tune): build and load
 * failures reach the user in the command's own answer, and the runtime's lines would repeat
 * them; warnings (a package that will break when bundled) still show.
 */
export const QUIET_LOGGER: Logger = {
  info: () => {},
  warn: (message) => void process.stderr.write(`${message}\n`),
  error: () => {},
};
