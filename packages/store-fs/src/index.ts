export { CorruptRecordError } from './errors/corrupt-record-error';
export { LockLostError } from './errors/lock-lost-error';
export { LockTimeoutError } from './errors/lock-timeout-error';
export { FileSystemStore } from './file-system-store';
export type { FileSystemStoreOptions } from './file-system-store-options';
export { DEFAULT_DATA_DIR, storeProvider } from './store-provider';
