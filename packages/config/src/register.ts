// `import '@au/config/register'` (or `node --import @au/config/register app.js`):
// configures au's defaults from the preset, the config file and the environment before
// the program's own code runs.
import { configure } from './configure';

await configure();
