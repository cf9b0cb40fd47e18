import { extname } from 'node:path';
import { pathToFileURL } from 'node:url';

/** A config file's name without its extension. */
export const CONFIG_FILE_BASENAME = 'au.config';

/** The extensions au reads, in the order a directory is searched. */
export const CONFIG_FILE_EXTENSIONS = [
  '.ts',
  '.mts',
  '.cts',
  '.js',
  '.mjs',
  '.cjs',
  '.json',
  '.yaml',
  '.yml',
  '.toml',
] as const;

type Loader = (file: string, content: string) => Promise<unknown>;

// Each parser is imported when a file of its kind is read, so a JSON config loads no
// YAML, TOML or TypeScript machinery.
const loadModule: Loader = async (file) => moduleDefault(await import(pathToFileURL(file).href), file);

const loadTypeScript: Loader = async (file) => {
  // jiti compiles TypeScript on Node 20, which cannot strip types itself.
  const { createJiti } = await import('jiti');
  const jiti = createJiti(import.meta.url, { moduleCache: false });
  return moduleDefault(await jiti.import(file), file);
};

const loadJson: Loader = async (_file, content) => JSON.parse(content);

const loadYaml: Loader = async (_file, content) => {
  const { parse } = await import('yaml');
  return parse(content);
};

const loadToml: Loader = async (_file, content) => {
  const { parse } = await import('smol-toml');
  return parse(content);
};

/** The loader of each extension, as lilconfig takes them. */
export const CONFIG_FILE_LOADERS: Record<(typeof CONFIG_FILE_EXTENSIONS)[number], Loader> = {
  '.ts': loadTypeScript,
  '.mts': loadTypeScript,
  '.cts': loadTypeScript,
  '.js': loadModule,
  '.mjs': loadModule,
  '.cjs': loadModule,
  '.json': loadJson,
  '.yaml': loadYaml,
  '.yml': loadYaml,
  '.toml': loadToml,
};

export function isConfigFileExtension(file: string): boolean {
  return (CONFIG_FILE_EXTENSIONS as readonly string[]).includes(extname(file));
}

/** A module's default export: `export default defineConfig({ … })`. */
function moduleDefault(moduleExports: unknown, file: string): unknown {
  const value = (moduleExports as { default?: unknown } | undefined)?.default;
  if (value === undefined) {
    throw new Error(`${file} has no default export: write export default defineConfig({ … })`);
  }
  return value;
}
