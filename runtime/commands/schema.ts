import { parseArgs } from 'node:util';
import { configJsonSchema } from '../config/json-schema.js';

const USAGE = `Usage: fngate schema

Prints the JSON Schema (draft 2020-12) of config.yaml, generated from the schema fngate itself
validates with. Editors use it to complete, document and check keys as you type: with the YAML
extension by Red Hat (VS Code) or any other yaml-language-server client, make this the first
line of config.yaml:

  # yaml-language-server: $schema=./fngate.schema.json

This repository ships the file as fngate.schema.json; npm run schema regenerates it.

Options:
  -h, --help   Show this help`;

/** `fngate schema`: prints the JSON Schema of config.yaml to stdout. */
export async function run(argv: readonly string[]): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({ args: [...argv], options: { help: { type: 'boolean', short: 'h' } } }));
  } catch (error) {
    process.stderr.write(`fngate: ${(error as Error).message}\n\n${USAGE}\n`);
    process.exitCode = 1;
    return;
  }
  if (values.help) return void process.stdout.write(`${USAGE}\n`);
  process.stdout.write(`${JSON.stringify(configJsonSchema(), null, 2)}\n`);
}
