import { defineConfig } from 'tsup';
import { baseTsupConfig } from '../../tooling/tsup.base';

// The worker file is its own entry: Piscina loads it by path in every thread.
export default defineConfig({ ...baseTsupConfig, entry: ['src/index.ts', 'src/thread-worker.ts'] });
