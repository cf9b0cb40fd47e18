import { defineConfig } from 'tsup';
import { baseTsupConfig } from '../../tooling/tsup.base';

// Two entries (`@au/core` and `@au/core/kit`) share one copy of each module through
// split chunks, so classes such as `TaskRegistry` are the same class from both.
export default defineConfig({ ...baseTsupConfig, entry: ['src/index.ts', 'src/kit.ts'], splitting: true });
