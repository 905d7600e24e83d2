import { defineConfig } from 'vitest/config';

// Three projects: `unit` is the pure core (fast, parallel); `integration` and
// `interop` touch the kernel and real BGP daemons, so they run one file at a time.
// every test file, as root: fails the file that leaves margay's traces in the root network namespace
const ROOT_NS_GUARD = 'test/support/root-ns-guard.ts';

export default defineConfig({
  test: {
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'], setupFiles: [ROOT_NS_GUARD] } },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          setupFiles: [ROOT_NS_GUARD],
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'interop',
          include: ['test/interop/**/*.test.ts'],
          setupFiles: [ROOT_NS_GUARD],
          fileParallelism: false,
          testTimeout: 180_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
