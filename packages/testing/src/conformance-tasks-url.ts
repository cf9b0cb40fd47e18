/**
 * The URL of the conformance task module, for backends that load task modules
 * (threads, processes, queue workers): `src/conformance-tasks.ts` when running from
 * sources (vitest, tsx), `dist/conformance-tasks.js` from the build.
 */
export const conformanceTasksUrl: URL = new URL(
  `./conformance-tasks${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`,
  import.meta.url,
);
