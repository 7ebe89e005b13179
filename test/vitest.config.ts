import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: fileURLToPath(new URL('..', import.meta.url)),
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    // Real threads, real builds, real HTTP: generous limits for a shared 2-core machine. No
    // assertion depends on speed; these only bound a hang.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
