/**
 * fngate's public API.
 * - Function authors: `import type { Handler, Context } from 'fngate'` (types only; function
 *   bundles never include the runtime).
 * - Tools and tests: `createRuntime()` starts the gateway programmatically.
 */
export type { Context, FetchModule, FunctionEnv, Handler, HandlerResult, ScheduledController, ScheduledHandler } from './types/handler.js';
export type { LambdaContext, LambdaHandler, LambdaHttpEvent, LambdaHttpResult, LambdaResult, LambdaScheduledEvent } from './types/lambda.js';
export { createRuntime, type FunctionState, type Runtime, type RuntimeOptions } from './create-runtime.js';
export { loadConfig, parseConfig, type LoadConfigOptions } from './config/load-config.js';
export { ConfigError, formatProblem, type ConfigProblem } from './config/config-error.js';
export type { ResolvedConfig, ResolvedFunction, ResolvedServer } from './config/resolve-config.js';
export { FngateError, HTTP_ERRORS, type HttpErrorCode } from './common/errors.js';
export { ListenError, PortInUseError } from './gateway/http-server.js';
export type { Logger } from './common/logger.js';
