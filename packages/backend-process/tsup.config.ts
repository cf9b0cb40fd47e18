import { defineConfig } from 'tsup';
import { baseTsupConfig } from '../../tooling/tsup.base';

// The worker program is its own entry: every child process runs it by path.
export default defineConfig({ ...baseTsupConfig, entry: ['src/index.ts', 'src/process-worker.ts'] });
