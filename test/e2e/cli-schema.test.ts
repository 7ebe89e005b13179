import { readFileSync } from 'node:fs';
// The named export: under NodeNext the default import of this CommonJS module is not constructable.
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { z } from 'zod';
import { configJsonSchema } from '../../runtime/config/json-schema.js';
import { defaultsSchema, functionSchema, serverSchema } from '../../runtime/config/schema.js';
import { REPO, runCli } from '../helpers/cli.js';

const SHIPPED = `${REPO}/fngate.schema.json`;
const DEMO_CONFIG = `${REPO}/config.yaml`;

/** Strict ajv, except for `type: [...]` unions, which are plain draft 2020-12. */
const createAjv = () => new Ajv2020({ allErrors: true, allowUnionTypes: true });
const validator = () => createAjv().compile(configJsonSchema());

type JsonObject = { properties: Record<string, JsonObject>; additionalProperties: JsonObject; description?: string };

/** A field's `.describe()` text, looking through the wrappers `.partial()` and `.required()` add. */
function describedAs(schema: z.ZodType): string | undefined {
  if (schema.description !== undefined) return schema.description;
  return schema instanceof z.ZodOptional || schema instanceof z.ZodNonOptional ? describedAs(schema.unwrap() as z.ZodType) : undefined;
}

describe('fngate schema', () => {
  it('prints a valid draft 2020-12 JSON Schema titled "fngate config.yaml"', async () => {
    const cli = runCli(['schema']);
    expect(await cli.exited).toBe(0);
    const schema = JSON.parse(cli.stdout()) as Record<string, unknown>;
    expect(schema).toMatchObject({ $schema: 'https://json-schema.org/draft/2020-12/schema', title: 'fngate config.yaml' });
    const ajv = createAjv();
    expect(ajv.validateSchema(schema), JSON.stringify(ajv.errors)).toBe(true);
  });

  it('prints byte for byte the committed fngate.schema.json, so the file cannot go stale', async () => {
    const cli = runCli(['schema']);
    expect(await cli.exited).toBe(0);
    expect(JSON.parse(cli.stdout())).toEqual(configJsonSchema());
    // If this fails after a change to runtime/config/schema.ts: npm run schema
    expect(readFileSync(SHIPPED, 'utf8')).toBe(cli.stdout());
  });

  it('has every key of the zod schema, with its description', () => {
    const schema = configJsonSchema() as unknown as JsonObject;
    const sections: [JsonObject, z.ZodObject][] = [
      [schema.properties.server!, serverSchema],
      [schema.properties.defaults!, defaultsSchema],
      [schema.properties.functions!.additionalProperties, functionSchema],
    ];
    for (const [json, zod] of sections) {
      expect(Object.keys(json.properties)).toEqual(Object.keys(zod.shape));
      for (const [key, field] of Object.entries(zod.shape)) {
        expect(json.properties[key]!.description, key).toBe(describedAs(field as z.ZodType));
        expect(json.properties[key]!.description, key).toBeTruthy();
      }
    }
  });

  it("accepts the repository's config.yaml", () => {
    const validate = validator();
    const demo = parse(readFileSync(DEMO_CONFIG, 'utf8')) as unknown;
    expect(validate(demo), JSON.stringify(validate.errors)).toBe(true);
  });

  it('rejects an unknown key such as functions.hello.maxThread', () => {
    const validate = validator();
    expect(validate({ functions: { hello: { routes: 'GET /hello', maxThread: 2 } } })).toBe(false);
    expect(validate.errors).toContainEqual(
      expect.objectContaining({ instancePath: '/functions/hello', keyword: 'additionalProperties', params: { additionalProperty: 'maxThread' } }),
    );
  });

  it('rejects a value of the wrong type', () => {
    const validate = validator();
    expect(validate({ functions: { hello: { routes: 'GET /hello', maxThreads: 'two' } } })).toBe(false);
    expect(validate.errors).toContainEqual(expect.objectContaining({ instancePath: '/functions/hello/maxThreads', keyword: 'type' }));
  });

  it('reads durations and sizes case-insensitively, as the runtime does', () => {
    const validate = validator();
    const withDefaults = (defaults: object) => ({ defaults, functions: { a: { routes: 'GET /a' } } });
    expect(validate(withDefaults({ timeout: '30S', memoryLimit: '512MB' })), JSON.stringify(validate.errors)).toBe(true);
    expect(validate(withDefaults({ timeout: 'soon' }))).toBe(false);
  });

  it('is what config.yaml points editors at, on its first line', () => {
    expect(readFileSync(DEMO_CONFIG, 'utf8').split('\n')[0]).toBe('# yaml-language-server: $schema=./fngate.schema.json');
  });
});
