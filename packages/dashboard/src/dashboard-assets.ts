import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { UiFile } from './build-ui';

/** A file the plugin serves. */
export interface DashboardAsset {
  body: Buffer;
  contentType: string;
}

const CONTENT_TYPES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
};

/** The names of the files of the page. */
export const ASSET_NAMES = Object.keys(CONTENT_TYPES);

/**
 * The page's files. A published package (and a local build) has them in `dist/ui/`,
 * next to the plugin's own code; from sources (tests, `npx pnpm@10 start` in a
 * checkout) there is no `dist/`, so they are built in memory with esbuild from
 * `src/app/`. Nothing is written to disk.
 */
export async function loadDashboardAssets(
  from: string = import.meta.url,
): Promise<Map<string, DashboardAsset>> {
  const builtDirectory = fileURLToPath(new URL('./ui/', from));
  let files: UiFile[];
  if (existsSync(`${builtDirectory}/index.html`)) {
    files = await Promise.all(
      ASSET_NAMES.map(async (name) => ({ name, contents: await readFile(`${builtDirectory}/${name}`) })),
    );
  } else {
    const sourceDirectory = fileURLToPath(new URL('./app/', from));
    if (!existsSync(`${sourceDirectory}/main.ts`)) {
      throw new Error(
        `[au] [dashboard] the page's files are missing: neither ${builtDirectory} (built) nor ${sourceDirectory} (sources) exists; reinstall @au/dashboard`,
      );
    }
    const { buildUi } = await import('./build-ui');
    files = await buildUi({ appDirectory: sourceDirectory });
  }
  return new Map(
    files.map((file) => [
      file.name,
      {
        body: Buffer.from(file.contents),
        contentType: CONTENT_TYPES[file.name] ?? 'application/octet-stream',
      },
    ]),
  );
}
