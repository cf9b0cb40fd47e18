// `import '@au/store-fs/default'`: from then on, `asyncCompute(fn)` and everything else
// that names no store keeps its records in a FileSystemStore in the OS temp directory
// (`<os.tmpdir()>/au-computations`), as the Python au does by default: results outlive
// the process, and a later process re-attaches to them by key. Core itself defaults to
// a MemoryStore, since it depends on no storage package.
import { setDefaults } from '@au/core';
import { FileSystemStore } from './file-system-store';

setDefaults({ store: new FileSystemStore() });
