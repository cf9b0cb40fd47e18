import { mkdir, writeFile } from 'node:fs/promises';
import { defineConfig } from 'tsup';
import { baseTsupConfig } from '../../tooling/tsup.base';

// The plugin as usual, then the page into dist/ui/ (served by the plugin from there).
export default defineConfig({
  ...baseTsupConfig,
  external: ['esbuild'],
  async onSuccess() {
    const { buildUi } = await import('./src/build-ui');
    await mkdir('dist/ui', { recursive: true });
    for (const file of await buildUi({ appDirectory: 'src/app' })) {
      await writeFile(`dist/ui/${file.name}`, file.contents);
    }
  },
});
