import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../src/resolve-config';
import { type TempProject, tempProject } from './temp-project';

let project: TempProject;
beforeEach(() => {
  project = tempProject();
});
afterEach(() => project.remove());

describe('flow-control settings in a config file', () => {
  describe('when the file gives routes and maxQueued', () => {
    it('should stand for AU_ROUTES and AU_MAX_QUEUED, the environment winning', async () => {
      project.write(
        'au.config.json',
        JSON.stringify({ backend: 'inline', maxQueued: 500, routes: { cpu: 'process', io: 'inline' } }),
      );
      const resolved = await resolveConfig({
        env: { AU_MAX_QUEUED: '50' },
        cwd: project.dir,
        stopDir: project.dir,
      });
      expect(resolved.env).toMatchObject({ AU_ROUTES: 'cpu=process,io=inline', AU_MAX_QUEUED: '50' });
      expect(resolved.origins.AU_ROUTES).toMatch(/au\.config\.json, key "routes"/);
    });
  });

  describe('when routes names an unknown hint', () => {
    it('should refuse the file naming the key', async () => {
      project.write('au.config.json', JSON.stringify({ routes: { gpu: 'process' } }));
      await expect(resolveConfig({ env: {}, cwd: project.dir, stopDir: project.dir })).rejects.toThrow(
        /routes/,
      );
    });
  });
});
