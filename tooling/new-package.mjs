// Writes the shared package.json shape for a new workspace package.
// Usage: node tooling/new-package.mjs <dir> <name> "<description>" [dep@range ...]
import { mkdirSync, writeFileSync } from 'node:fs';

const [directory, name, description, ...dependencies] = process.argv.slice(2);
const deps = Object.fromEntries(
  dependencies.map((spec) => {
    const at = spec.lastIndexOf('@');
    return [spec.slice(0, at), spec.slice(at + 1)];
  }),
);
const pkg = {
  name,
  version: '0.0.0',
  description,
  license: 'MIT',
  type: 'module',
  sideEffects: false,
  engines: { node: '>=20.19' },
  repository: { type: 'git', url: 'git+https://github.com/au-js/au.git', directory },
  files: ['dist', 'README.md'],
  exports: {
    '.': { '@au/source': './src/index.ts', types: './dist/index.d.ts', import: './dist/index.js' },
  },
  main: './dist/index.js',
  types: './dist/index.d.ts',
  publishConfig: {
    access: 'public',
    exports: { '.': { types: './dist/index.d.ts', import: './dist/index.js' } },
  },
  scripts: {
    build: 'tsup',
    typecheck: 'tsc --noEmit -p tsconfig.json',
    test: 'vitest run --project ' + directory.split('/')[1] + ' --root ../..',
  },
  dependencies: deps,
};
mkdirSync(`${directory}/src`, { recursive: true });
mkdirSync(`${directory}/test`, { recursive: true });
writeFileSync(`${directory}/package.json`, JSON.stringify(pkg, null, 2) + '\n');
writeFileSync(
  `${directory}/tsconfig.json`,
  JSON.stringify({ extends: '../../tsconfig.base.json', include: ['src', 'test'] }, null, 2) + '\n',
);
writeFileSync(
  `${directory}/tsup.config.ts`,
  "import { defineConfig } from 'tsup';\nimport { baseTsupConfig } from '../../tooling/tsup.base';\n\nexport default defineConfig({ ...baseTsupConfig });\n",
);
