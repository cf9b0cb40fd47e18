import { defineConfig } from 'tsup';
import { baseTsupConfig } from '../../tooling/tsup.base';

export default defineConfig({ ...baseTsupConfig, entry: ['src/index.ts', 'src/cli.ts'] });
