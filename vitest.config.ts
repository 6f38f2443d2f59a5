import { defineConfig } from 'vitest/config';

// chdb allows one embedded data directory per process, so every test file runs in its own
// forked process with its own directory (see test/helpers/clickhouse.ts).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    isolate: true,
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    server: {
      deps: {
        // GitHub's workflow parser imports its JSON schema without an import attribute, which
        // Node 20 refuses natively; vite's transform handles it (test/workflow.test.ts).
        inline: ['@actions/workflow-parser'],
      },
    },
  },
});
