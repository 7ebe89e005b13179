import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { configJsonSchema } from '../../runtime/config/json-schema.js';
import { REPO, runCli } from '../helpers/cli.js';

const SHIPPED = fileURLToPath(new URL('../../fngate.schema.json', import.meta.url));

function validator() {
  return new Ajv2020({ allErrors: true, strict: false }).compile(configJsonSchema());
}

describe('fngate schema', () => {
  it('prints the JSON Schema that ships as fngate.schema.json (it cannot go stale)', async () => {
    const cli = runCli(['schema']);
    expect(await cli.exited).toBe(0);
    const printed = JSON.parse(cli.stdout()) as Record<string, unknown>;
    expect(printed).toEqual(configJsonSchema());
    expect(JSON.parse(readFileSync(SHIPPED, 'utf8'))).toEqual(printed);
    expect(readFileSync(`${REPO}/config.yaml`, 'utf8').split('\n')[0]).toBe('# yaml-language-server: $schema=./fngate.schema.json');
  });

  it('accepts the demo config.yaml, with durations and sizes in any case', () => {
    const validate = validator();
    const demo = parse(readFileSync(`${REPO}/config.yaml`, 'utf8')) as unknown;
    expect(validate(demo), JSON.stringify(validate.errors)).toBe(true);
    expect(validate({ defaults: { timeout: '30S', memoryLimit: '512MB' }, functions: { a: { routes: 'GET /a' } } })).toBe(true);
  });

  it('rejects an unknown key and a wrong type, as the runtime does', () => {
    const validate = validator();
    expect(validate({ functions: { hello: { routes: 'GET /hello', maxThread: 2 } } })).toBe(false);
    expect(validate.errors?.[0]).toMatchObject({ keyword: 'additionalProperties', params: { additionalProperty: 'maxThread' } });
    expect(validate({ functions: { hello: { routes: 'GET /hello', maxThreads: 'two' } } })).toBe(false);
    expect(validate.errors?.some((e) => e.instancePath === '/functions/hello/maxThreads')).toBe(true);
    expect(validate({ defaults: { timeout: 'soon' }, functions: { a: { routes: 'GET /a' } } })).toBe(false);
    expect(validate({ server: { admin: { token: '' } }, functions: { a: { routes: 'GET /a' } } })).toBe(false);
  });
});
