import type { ResolvedConfig } from './resolve-config.js';

/**
 * Deployment groups (`deploy.group`): the functions that run in a server of their own
 * (`fngate start --only GROUP`), whose routes the gateway forwards (`--forward GROUP=URL`).
 * One reading for `fngate start` and for what `fngate build` deploys.
 */

/** The groups the config's functions name, in config order. */
export function groupsOf(config: ResolvedConfig): string[] {
  return [...new Set(Object.values(config.functions).flatMap((fn) => (fn.group === null ? [] : [fn.group])))];
}

/** The config with the functions of `group` only (null: those without a group, the gateway's own). */
export function withGroup(config: ResolvedConfig, group: string | null): ResolvedConfig {
  return { ...config, functions: Object.fromEntries(Object.entries(config.functions).filter(([, fn]) => fn.group === group)) };
}

/** The config without the functions whose group is forwarded to another server. */
export function withoutForwarded(config: ResolvedConfig, forward: Readonly<Record<string, string>>): ResolvedConfig {
  if (Object.keys(forward).length === 0) return config;
  return { ...config, functions: Object.fromEntries(Object.entries(config.functions).filter(([, fn]) => fn.group === null || forward[fn.group] === undefined)) };
}
