// CLI tests spawn `runtime/bin.js` in parallel; build the runtime once up front so they never
// race to compile it.
// @ts-expect-error plain-JS build script without type declarations
import { ensureRuntimeBuilt } from '../../scripts/build-runtime.js';

export default async function setup(): Promise<void> {
  await (ensureRuntimeBuilt as () => Promise<void>)();
}
