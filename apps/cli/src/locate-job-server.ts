import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** How to start the job server's program: node arguments before its entry file. */
export interface JobServerEntry {
  file: string;
  execArgv: string[];
}

/**
 * Finds the job server's program (`@au/job-server`) next to this package: its
 * TypeScript entry in a checkout (run through tsx), else its built one. `undefined`
 * when it is not installed.
 */
export function locateJobServer(from: string = import.meta.url): JobServerEntry | undefined {
  let directory = dirname(fileURLToPath(from));
  for (;;) {
    const root = join(directory, 'node_modules', '@au', 'job-server');
    if (existsSync(join(root, 'package.json'))) {
      const source = join(root, 'src', 'main.ts');
      if (existsSync(source))
        return { file: source, execArgv: ['--conditions=@au/source', '--import', 'tsx'] };
      const built = join(root, 'dist', 'main.js');
      if (existsSync(built)) return { file: built, execArgv: [] };
      return undefined;
    }
    const parent = dirname(directory);
    if (parent === directory) return undefined;
    directory = parent;
  }
}
