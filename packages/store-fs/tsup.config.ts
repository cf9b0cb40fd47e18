import { defineConfig } from 'tsup';
import { baseTsupConfig } from '../../tooling/tsup.base';

// `default` is its own entry (a side-effect import); splitting keeps one FileSystemStore
// class shared by both entries.
export default defineConfig({
  ...baseTsupConfig,
  entry: ['src/index.ts', 'src/default.ts'],
  splitting: true,
});
