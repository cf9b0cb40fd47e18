import { defineConfig } from 'tsup';
import { baseTsupConfig } from '../../tooling/tsup.base';

// Each subpath export is its own entry: `conformance-tasks` because backends load it by
// URL (`conformanceTasksUrl`) in threads, processes and queue workers; `postgrest` so the
// suites' vitest import stays out of the emulator; `sync-test` so the `test`
// preset can load the SyncTestBackend outside a test runner; `lock-contender` so the child
// processes of `testLocksAcrossProcesses` load without vitest.
export default defineConfig({
  ...baseTsupConfig,
  entry: [
    'src/index.ts',
    'src/conformance-tasks.ts',
    'src/postgrest/index.ts',
    'src/sync-test.ts',
    'src/lock-contender.ts',
  ],
});
