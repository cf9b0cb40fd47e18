export { backendProvider } from './backend-provider';
export { ThreadCrashedError } from './errors/thread-crashed-error';
export { ThreadsBackend, type ThreadsBackendOptions } from './threads-backend';
