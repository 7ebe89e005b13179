/** Where the runtime reports builds, reloads and failures. The CLI prints; tests collect. */
export interface Logger {
  /** Progress: ready line, routes, reloads. stdout. */
  info(message: string): void;
  /** Something the user should fix but the server keeps running. stderr. */
  warn(message: string): void;
  /** Build errors, load failures, crashes. stderr. */
  error(message: string): void;
}

export const consoleLogger: Logger = {
  info: (message) => void process.stdout.write(`${message}\n`),
  warn: (message) => void process.stderr.write(`${message}\n`),
  error: (message) => void process.stderr.write(`${message}\n`),
};
