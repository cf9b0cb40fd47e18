export { type CatalogFunction, findCandidates, loadFunctionCatalog } from './function-catalog';
export {
  type PostgrestEmulator,
  type PostgrestEmulatorOptions,
  signTestJwt,
  startPostgrestEmulator,
} from './postgrest-emulator';
export { sqlStateToHttp } from './sqlstate-to-http';
