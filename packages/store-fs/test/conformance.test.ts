import { testStore } from '@au/testing';
import { afterAll } from 'vitest';
import { FileSystemStore } from '../src/index';
import { removeTempRoots, tempRoot } from './helpers/temp-root';

afterAll(removeTempRoots);

// Automatic cleanup is off so that `cleanupExpired` counts exactly what the suite expects.
testStore('FileSystemStore', () => new FileSystemStore({ root: tempRoot(), autoCleanup: false }));

testStore(
  'FileSystemStore (polling watch, no fs events)',
  () => new FileSystemStore({ root: tempRoot(), autoCleanup: false, fsEvents: false, pollInterval: 20 }),
  { skip: ['list-paging', 'large-value', 'list-limit'] },
);
