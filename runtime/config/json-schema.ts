import * as z from 'zod';
import { configSchema } from './schema.js';

/**
 * The schema's `$id`. A URN, not a URL: editors find the schema through the
 * `# yaml-language-server: $schema=./fngate.schema.json` line, never by fetching its id.
 */
export const SCHEMA_ID = 'urn:fngate:config.yaml';

/**
 * The JSON Schema (draft 2020-12) of config.yaml, generated from the zod schema the runtime
 * validates with, so the two cannot disagree. It describes the input side (what a user writes:
 * `30s` or a number of milliseconds), with each key's description from the zod schema.
 */
export function configJsonSchema(): Record<string, unknown> {
  const { $schema, ...generated } = z.toJSONSchema(configSchema, {
    io: 'input',
    target: 'draft-2020-12',
    override: ({ zodSchema, jsonSchema }) => {
      // JSON Schema patterns have no flags; the runtime reads units case-insensitively (`10MB`).
      const source = jsonSchema.pattern;
      const checks = (zodSchema._zod.def as { checks?: readonly z.core.$ZodCheck[] }).checks ?? [];
      const patterns = checks.map((check) => (check._zod.def as { pattern?: unknown }).pattern);
      if (source !== undefined && patterns.some((re) => re instanceof RegExp && re.source === source && re.flags.includes('i'))) {
        jsonSchema.pattern = caseless(source);
      }
    },
  });
  return {
    $schema,
    $id: SCHEMA_ID,
    title: 'fngate config.yaml',
    description: 'Routes, worker-thread pools and server settings of an fngate project. See README.md "config.yaml".',
    ...generated,
  };
}

/** `(ms|s)` -> `([mM][sS]|[sS])`: each letter outside an escape matches both cases. */
function caseless(source: string): string {
  if (/\[[^\]]*[A-Za-z]|\(\?</.test(source)) {
    // Letters in classes (`[a-z]`) or group names would need a real regex rewriter.
    throw new Error(`cannot express /${source}/i as a JSON Schema pattern`);
  }
  return source.replace(/(\\.)|([A-Za-z])/g, (match, escape: string | undefined, letter: string) =>
    escape !== undefined ? match : `[${letter.toLowerCase()}${letter.toUpperCase()}]`,
  );
}
