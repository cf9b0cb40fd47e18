import { defineConfig } from 'tsup';
import { baseTsupConfig } from '../../tooling/tsup.base';

// `main` is the program; `sample-tasks` must stay its own file next to it, because
// worker threads load it by URL (`SAMPLE_TASKS_URL`).
export default defineConfig({
  ...baseTsupConfig,
  entry: ['src/index.ts', 'src/main.ts', 'src/sample-tasks.ts'],
});
