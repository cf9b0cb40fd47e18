import type { Options } from 'tsup';

/** The build every package shares: ESM, bundled `.d.ts`, sources for debugging. */
export const baseTsupConfig: Options = {
  entry: ['src/index.ts'],
  format: ['esm'],
  target: 'node20',
  platform: 'node',
  dts: true,
  sourcemap: true,
  clean: true,
  splitting: false,
  treeshake: true,
};
