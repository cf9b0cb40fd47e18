import { defineTask } from '@au/core';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { buildApp } from './fixtures';

const order = defineTask({
  name: 'order',
  input: z.object({
    item: z.string().transform((item) => item.toUpperCase()),
    quantity: z.number().int().default(1),
    note: z.any().optional(),
  }),
  run: (input) => input,
});

/** `{ a: { a: … } }`, `depth` levels deep, as JSON text (building it as an object would overflow first). */
function nested(depth: number): string {
  return `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

describe('@au/http inputs', () => {
  let app: FastifyInstance;
  let close: () => Promise<void>;
  beforeAll(async () => {
    const built = await buildApp({ tasks: [order], bodyLimit: 4 * 1024 * 1024 });
    app = built.app;
    close = async () => {
      await built.app.close();
      await built.backend.close();
    };
  });
  afterAll(() => close());

  describe('when the body has unknown fields, defaults and transforms', () => {
    it('should store and run the parsed output, without the junk', async () => {
      const response = await app.inject({
        method: 'POST',
        url: '/order?wait=5',
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify({ item: 'tea', junk: 'x'.repeat(900_000) }),
      });
      expect(response.statusCode).toBe(200);
      expect(response.json().result).toEqual({ item: 'TEA', quantity: 1 });
      const id = response.headers.location!.split('/').at(-1)!;
      const task = await app.inject({ method: 'GET', url: `/tasks/${id}` });
      expect(task.body.length).toBeLessThan(2000);
    });
  });

  describe('when a valid body carries a deeply nested unknown field', () => {
    it('should answer, never 500', async () => {
      const response = await app.inject({
        method: 'POST',
        url: '/order?async=true',
        headers: { 'content-type': 'application/json' },
        payload: `{"item":"tea","deep":${nested(20_000)}}`,
      });
      expect(response.statusCode).toBeLessThan(500);
      expect([202, 400]).toContain(response.statusCode);
    });
  });

  describe('when an allowed field is too deeply nested to encode', () => {
    it('should answer 400 with the reason, never 500', async () => {
      const response = await app.inject({
        method: 'POST',
        url: '/order?async=true',
        headers: { 'content-type': 'application/json' },
        payload: `{"item":"tea","note":${nested(20_000)}}`,
      });
      expect(response.statusCode).toBeLessThan(500);
      expect(response.statusCode).toBe(400);
    });
  });
});

describe('@au/http options', () => {
  describe('when the plugin gets an unknown option', () => {
    it('should refuse to start, naming it', async () => {
      await expect(buildApp({ defaultWiat: 3 } as never)).rejects.toThrow(
        /auHttp: unknown option "defaultWiat" \(did you mean "defaultWait"\?\)/,
      );
    });
  });
});
