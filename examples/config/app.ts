// `AU_PRESET=development npx tsx examples/config/app.ts` (or production, or test):
// asyncCompute's defaults come from the preset, the config file and the environment.
import { configure } from '@au/config';
import { asyncCompute } from '@au/core';
import { greet } from './tasks';

const config = await configure({
  configFile: new URL('./au.config.yaml', import.meta.url).pathname,
  // Store and backend packages resolve from this program's node_modules.
  importModule: (name) => import(name),
});
console.log(
  `preset ${config.preset.name}: store ${config.describe.store}, backend ${config.describe.backend}`,
);
const handle = await asyncCompute(greet)({ name: 'au' });
console.log(await handle.result({ timeout: 10_000 }));
await config.close();
