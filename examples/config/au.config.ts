import { defineConfig } from '@au/config';

export default defineConfig({
  tasks: ['./tasks.ts'],
  ttl: 86_400,
  server: { port: 8080, logLevel: 'info' },
  presets: {
    development: { server: { exposeStacks: true } },
    production: { store: 'fs:./.au-data', backend: 'threads', concurrency: 4 },
  },
});
