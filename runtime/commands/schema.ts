import { parseArgs } from 'node:util';
import { configJsonSchema } from '../config/json-schema.js';

const USAGE = `Usage: fngate schema

Prints the JSON Schema of config.yaml (draft 2020-12), generated from the schema fngate itself
validates with. Editors use it to complete and check keys: with the YAML extension (VS Code,
by Red Hat) or any yaml-language-server client, start config.yaml with

  # yaml-language-server: $schema=./fngate.schema.json

This repository ships the file as fngate.schema.json (npm run schema regenerates it).`;

/** `fngate schema`: the JSON Schema on stdout. */
export async function run(argv: readonly string[]): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({ args: [...argv], options: { help: { type: 'boolean', short: 'h' } } }));
  } catch (error) {
    process.stderr.write(`fngate schema: ${(error as Error).message}\n\n${USAGE}\n`);
    process.exitCode = 2;
    return;
  }
  if (values.help) return void process.stdout.write(`${USAGE}\n`);
  process.stdout.write(`${JSON.stringify(configJsonSchema(), null, 2)}\n`);
}
