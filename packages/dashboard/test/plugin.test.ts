import { InProcessBackend, MemoryStore } from '@au/core';
import { auHttp } from '@au/http';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { auDashboard } from '../src/index';

let app: FastifyInstance | undefined;

afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function build(options: Parameters<typeof auDashboard>[1] = {}): Promise<FastifyInstance> {
  app = Fastify();
  await app.register(auHttp, {
    tasks: [],
    store: new MemoryStore(),
    backend: new InProcessBackend(),
    apiKeys: ['k'],
  });
  await app.register(auDashboard, options);
  await app.ready();
  return app;
}

describe('auDashboard', () => {
  describe('when registered with its defaults', () => {
    it('should redirect / and /ui to /ui/', async () => {
      const server = await build();
      for (const url of ['/', '/ui']) {
        const response = await server.inject({ url });
        expect(response.statusCode).toBe(302);
        expect(response.headers.location).toBe('/ui/');
      }
    });

    it('should serve the page without an API key, with a same-origin-only policy', async () => {
      const server = await build();
      const response = await server.inject({ url: '/ui/' });
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(response.headers['content-security-policy']).toContain("connect-src 'self'");
      expect(response.body).toContain('<script type="module" src="app.js"></script>');
      expect(response.body).toContain('<meta name="au-api-prefix" content="" />');
      expect(response.body).not.toMatch(/https?:\/\//);
    });

    it('should serve the built script and the styles', async () => {
      const server = await build();
      const script = await server.inject({ url: '/ui/app.js' });
      expect(script.statusCode).toBe(200);
      expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8');
      expect(script.body).toContain('/openapi.json');
      expect(script.body).not.toMatch(/\bimport\s*\(?["']https?:/);
      const styles = await server.inject({ url: '/ui/style.css' });
      expect(styles.headers['content-type']).toBe('text/css; charset=utf-8');
    });

    it('should answer 404 for any other file', async () => {
      const server = await build();
      for (const url of ['/ui/secret.txt', '/ui/..%2Fpackage.json', '/ui/main.ts']) {
        expect((await server.inject({ url })).statusCode).toBe(404);
      }
    });

    it('should leave the API protected', async () => {
      const server = await build();
      expect((await server.inject({ url: '/tasks' })).statusCode).toBe(401);
    });
  });

  describe('when given a prefix, an API prefix and a title', () => {
    it('should serve there and tell the page where the API is', async () => {
      const server = await build({
        prefix: '/dashboard/',
        apiPrefix: 'api',
        title: 'Jobs <prod>',
        redirectRoot: false,
      });
      expect((await server.inject({ url: '/' })).headers.location).toBeUndefined();
      const page = await server.inject({ url: '/dashboard/' });
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain('<meta name="au-api-prefix" content="/api" />');
      expect(page.body).toContain('<title>Jobs &#60;prod&#62;</title>');
    });
  });
});
