import { fileURLToPath } from 'node:url';

/** Absolute path of a fixture project's config.yaml. */
export function fixtureConfig(name: string): string {
  return fileURLToPath(new URL(`../fixtures/${name}/config.yaml`, import.meta.url));
}
