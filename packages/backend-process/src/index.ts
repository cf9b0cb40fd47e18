export { backendProvider } from './backend-provider';
export { ProcessCrashedError, type ProcessExit } from './errors/process-crashed-error';
export { ProcessBackend, type ProcessBackendOptions } from './process-backend';
