import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

/** One file of the page. */
export interface UiFile {
  /** `index.html`, `app.js`, `style.css`. */
  name: string;
  contents: Uint8Array;
}

/** The page's sources: `src/app/` (TypeScript, HTML, CSS). */
export const APP_DIRECTORY = fileURLToPath(new URL('./app/', import.meta.url));

/**
 * Builds the page from `src/app/` with esbuild: `main.ts` and everything it imports
 * into one minified `app.js` (no CDN, nothing loaded from elsewhere), plus
 * `index.html` and `style.css` as they are. Returns the files in memory; the package
 * build writes them to `dist/ui/`, and the plugin serves them straight from memory
 * when run from sources.
 */
export async function buildUi({
  appDirectory = APP_DIRECTORY,
}: {
  appDirectory?: string;
} = {}): Promise<UiFile[]> {
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    entryPoints: [`${appDirectory}/main.ts`],
    bundle: true,
    // Workspace packages from their sources when building in the repository.
    conditions: ['@au/source'],
    format: 'esm',
    platform: 'browser',
    target: ['es2022', 'chrome110', 'firefox110', 'safari16'],
    minify: true,
    legalComments: 'none',
    write: false,
    outfile: 'app.js',
    logLevel: 'silent',
  });
  const script = result.outputFiles.find((file) => file.path.endsWith('app.js'));
  if (script === undefined) throw new Error('[au] [dashboard] esbuild produced no app.js');
  return [
    { name: 'app.js', contents: script.contents },
    { name: 'index.html', contents: await readFile(`${appDirectory}/index.html`) },
    { name: 'style.css', contents: await readFile(`${appDirectory}/style.css`) },
  ];
}
