/**
 * Two projects. `unit` is test/unit/**: pure, in-process tests (no sockets, child processes or
 * emulators; test/support/no-io.ts enforces it), run by `npm run test:unit` in seconds.
 * `integration` is everything else under test/: real sockets, the CLI as a child process,
 * dynalite and fauxqs. `npm test` runs both.
 */
const common = {
  testEnvironment: 'node',
  testMatch: ['**/*.test.ts'],
  transform: {
    // Transpile only (isolatedModules): `npm run typecheck` is where types are checked.
    '^.+\\.tsx?$': ['ts-jest', { diagnostics: false }],
  },
};

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    {
      ...common,
      displayName: 'unit',
      roots: ['<rootDir>/test/unit'],
      setupFilesAfterEnv: ['<rootDir>/test/support/no-io.ts'],
    },
    {
      ...common,
      displayName: 'integration',
      roots: ['<rootDir>/test'],
      testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/unit/'],
      // Tests spawn dist/edgepush.js: build it first, so `npx jest` alone never tests an old bundle.
      globalSetup: '<rootDir>/test/support/build-dist.ts',
    },
  ],
  // Socket-heavy suites: two cores here, so two workers keep them from starving each other.
  maxWorkers: 2,
  testTimeout: 30000,
};
