/**
 * The first lines of a config.yaml that fngate writes (`fngate init`, the first `fngate new`):
 * editors with the YAML language server read the schema from the installed package, and check
 * and complete every key.
 */
export const CONFIG_HEADER = `# yaml-language-server: $schema=./node_modules/fngate/fngate.schema.json
# fngate: routes -> functions, each on its own pool of worker threads.
# Every key and its default: fngate's README, section "config.yaml" (or \`npx fngate schema\`).
`;
