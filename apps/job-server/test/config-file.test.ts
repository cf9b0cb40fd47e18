import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuClient, AuHttpError, type InferTasks } from '@au/client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type * as sampleTasks from '../src/sample-tasks';
import { type ServerProcess, startServerProcess } from './server-process';

type SampleTasks = InferTasks<typeof sampleTasks>;

// The real server in a child process, configured by a file as docs/configuration.md shows.
describe('job-server started from a config file', { timeout: 120_000 }, () => {
  let directory: string;
  let server: ServerProcess | undefined;

  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'au-job-server-config-'));
  });
  afterEach(async () => {
    await server?.stop('SIGKILL');
    server = undefined;
    await rm(directory, { recursive: true, force: true });
  });

  describe('when --config names a YAML file', () => {
    it("should serve with the file's store, backend and API keys", async () => {
      const file = join(directory, 'au.config.yaml');
      await writeFile(
        file,
        [
          'server:',
          '  apiKeys: [from-the-file]',
          '  logLevel: info',
          'presets:',
          '  production:',
          '    store: fs:./records',
          '    backend: inline',
          '',
        ].join('\n'),
      );
      server = await startServerProcess({}, ['--config', file]);
      const client = new AuClient<SampleTasks>({ url: server.url, apiKey: 'from-the-file' });
      const outcome = await client.submit('factorial', { n: 10 }, { wait: 30 });
      expect(outcome).toMatchObject({ status: 'completed', result: '3628800' });
      // `fs:./records` is relative to the file, not to the server's working directory.
      expect(existsSync(join(directory, 'records'))).toBe(true);
      expect(server.output()).toContain(`"configFile":"${file}"`);
      expect(server.output()).toContain('"preset":"production (default)"');
    });
  });

  describe('when AU_CONFIG names a TypeScript file and the environment sets a value too', () => {
    it('should let the environment override the file', async () => {
      const file = join(directory, 'settings.ts');
      await writeFile(
        file,
        "const keys: string[] = ['from-the-file'];\nexport default { store: 'memory', backend: 'inline', server: { apiKeys: keys } };\n",
      );
      server = await startServerProcess({ AU_CONFIG: file, AU_API_KEYS: 'from-the-env' });
      const fromEnv = new AuClient<SampleTasks>({ url: server.url, apiKey: 'from-the-env' });
      expect(await fromEnv.submit('factorial', { n: 5 }, { wait: 30 })).toMatchObject({ result: '120' });
      const fromFile = new AuClient<SampleTasks>({ url: server.url, apiKey: 'from-the-file' });
      const refused = await fromFile.submit('factorial', { n: 5 }).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(AuHttpError);
      expect((refused as AuHttpError).status).toBe(401);
    });
  });

  describe('when the file has an unknown key', () => {
    it('should not start, and name the file and the key', async () => {
      const file = join(directory, 'au.config.json');
      await writeFile(file, JSON.stringify({ backnd: 'inline' }));
      await expect(startServerProcess({}, [`--config=${file}`])).rejects.toThrow(
        `exited early (2):\n[au] ${file}: unknown key "backnd" (did you mean "backend"?)`,
      );
    });
  });
});
