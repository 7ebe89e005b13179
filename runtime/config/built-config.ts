import { isMap, parseDocument, stringify } from 'yaml';

/**
 * config.yaml as `fngate build` writes it into its output: the user's file, comments and
 * `${VAR}` references kept (no secret is baked in), with each function's `file` pointing at its
 * prebuilt bundle, and server settings the target needs that the user did not set.
 */
export function builtConfigText(
  text: string,
  bundles: Readonly<Record<string, string>>,
  serverDefaults: Readonly<Record<string, string | number>> = {},
): string {
  const doc = parseDocument(text);
  for (const [name, file] of Object.entries(bundles)) doc.setIn(['functions', name, 'file'], file);
  for (const [key, value] of Object.entries(serverDefaults)) {
    const server = doc.get('server', true);
    if (isMap(server) && server.has(key)) continue;
    doc.setIn(['server', key], value);
  }
  return doc.toString({ lineWidth: 0 });
}

/** Objects as YAML documents separated by `---` (Kubernetes manifests). */
export function yamlDocuments(objects: readonly unknown[]): string {
  return objects.map((object) => stringify(object, { lineWidth: 0 })).join('---\n');
}

/** Functions for which config.yaml sets `key` neither on the function nor under `defaults`. */
export function functionsWithout(text: string, key: string): string[] {
  const doc = parseDocument(text).toJS() as { defaults?: Record<string, unknown>; functions?: Record<string, Record<string, unknown> | null> } | null;
  if (doc?.defaults?.[key] !== undefined) return [];
  return Object.entries(doc?.functions ?? {})
    .filter(([, settings]) => settings?.[key] === undefined)
    .map(([name]) => name);
}

/** The variables config.yaml reads from the environment (`${VAR}`, `${VAR:-default}`). */
export function referencedVariables(text: string): string[] {
  return [...new Set([...text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-[^}]*)?\}/g)].map((match) => match[1]!))];
}
