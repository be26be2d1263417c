/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    // Transpile only (isolatedModules): `npm run typecheck` is where types are checked.
    '^.+\\.tsx?$': ['ts-jest', { diagnostics: false }],
  },
  // Socket-heavy suites: two cores here, so two workers keep them from starving each other.
  maxWorkers: 2,
  testTimeout: 30000,
  // Tests spawn dist/edgepush.js: build it first, so `npx jest` alone never tests an old bundle.
  globalSetup: '<rootDir>/test/support/build-dist.ts',
};
