import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Vite strips types from .ts/.mts only by default; the CommonJS entry points are .cts.
  esbuild: { include: /\.(m|c)?tsx?$/ },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
