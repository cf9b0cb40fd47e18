import { existsSync, readdirSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

// One vitest project per package or app that has tests. Every project extends this
// config, so all of them resolve workspace packages to their TypeScript sources through
// the `@au/source` export condition: tests need no prior build.
const sourceCondition = '@au/source';

const projectDirectories = ['packages', 'apps'].flatMap((group) =>
  existsSync(group)
    ? readdirSync(group, { withFileTypes: true })
        .filter((entry) => entry.isDirectory() && existsSync(`${group}/${entry.name}/test`))
        .map((entry) => `${group}/${entry.name}`)
    : [],
);

export default defineConfig({
  resolve: { conditions: [sourceCondition, 'import', 'module', 'node', 'default'] },
  ssr: {
    resolve: {
      // No 'import' here: applied to externalized CommonJS packages it made pg's require('pg-pool')
      // load pg-pool's ESM build ("Class extends value [object Module]"). Vite adds import/require itself.
      conditions: [sourceCondition, 'node', 'default'],
      externalConditions: [sourceCondition],
    },
  },
  test: {
    projects: projectDirectories.map((directory) => ({
      extends: true,
      test: {
        name: directory.split('/')[1],
        root: directory,
        include: ['test/**/*.test.ts'],
        environment: 'node',
        testTimeout: 30_000,
        hookTimeout: 30_000,
      },
    })),
  },
});
