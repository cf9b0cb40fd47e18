import { defineConfig } from 'tsup';
import { baseTsupConfig } from '../../tooling/tsup.base';

// `register` is its own entry: importing it configures the process (a side effect).
export default defineConfig({ ...baseTsupConfig, entry: ['src/index.ts', 'src/register.ts'] });
