import { z } from 'zod';
import { configSchema } from './schema.js';

/** Where editors find it: the file fngate ships at the package root. */
export const SCHEMA_ID = 'https://fngate.dev/schema/config.json';

/**
 * The JSON Schema (draft 2020-12) of config.yaml, generated from the zod schema the runtime
 * validates with, so the two cannot disagree. The input side is described (what a user
 * writes: `30s` or a number), with each key's description and default from the schema.
 */
export function configJsonSchema(): Record<string, unknown> {
  const generated = caseInsensitivePatterns(
    z.toJSONSchema(configSchema, { io: 'input', target: 'draft-2020-12' }),
  ) as Record<string, unknown>;
  return {
    $schema: generated.$schema,
    $id: SCHEMA_ID,
    title: 'fngate config.yaml',
    description: 'Routes, worker-thread pools and server settings of an fngate project. See README.md "config.yaml".',
    ...Object.fromEntries(Object.entries(generated).filter(([key]) => key !== '$schema')),
  };
}

/**
 * JSON Schema patterns have no flags, and the runtime reads units case-insensitively (`10MB`):
 * each letter outside an escape becomes a class of both cases.
 */
function caseInsensitivePatterns(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(caseInsensitivePatterns);
  if (node === null || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node).map(([key, value]) => [
      key,
      key === 'pattern' && typeof value === 'string' && /\(\?:?|\((?:ms|b)\|/.test(value)
        ? value.replace(/(\\.)|([a-z])/g, (match, escape: string | undefined, letter: string | undefined) =>
            escape ?? `[${letter}${letter!.toUpperCase()}]`,
          )
        : caseInsensitivePatterns(value),
    ]),
  );
}
