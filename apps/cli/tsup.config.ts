import { defineConfig } from 'tsup';
import { baseTsupConfig } from '../../tooling/tsup.base';

// Two entries: the library (`src/index.ts`) and the program that `bin/au.js` imports.
// Commands stay separate chunks so `cli.ts` loads each one only when it runs.
export default defineConfig({
  ...baseTsupConfig,
  entry: ['src/index.ts', 'src/main.ts'],
  splitting: true,
});
