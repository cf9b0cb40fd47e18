import { MemoryStore } from '@au/core';
import { testStore } from '../src/index';

testStore('MemoryStore', () => new MemoryStore());
