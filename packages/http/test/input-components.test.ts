import { defineTask } from '@au/core';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { buildApp } from './fixtures';

// A part reused (`.meta({ id })`) or recursive (`z.lazy`) in a task's input is a zod
// `definitions` entry; OpenAPI has no place for it inside a body, so it becomes a component.
const Address = z.object({ city: z.string() }).meta({ id: 'Address' });
interface Category {
  name: string;
  children: Category[];
}
const CategorySchema: z.ZodType<Category> = z.lazy(() =>
  z.object({ name: z.string(), children: z.array(CategorySchema) }),
);
const ship = defineTask({
  name: 'ship',
  input: z.object({ from: Address, to: Address, category: CategorySchema.optional() }),
  run: ({ to }) => to.city,
});
const bill = defineTask({ name: 'bill', input: z.object({ address: Address }), run: () => 'billed' });

describe('@au/http task inputs with reused parts', () => {
  let app: FastifyInstance;
  let close: () => Promise<void>;
  beforeAll(async () => {
    const built = await buildApp({ tasks: [ship, bill] });
    app = built.app;
    close = async () => {
      await built.app.close();
      await built.backend.close();
    };
  });
  afterAll(() => close());

  describe('when /openapi.json is read', () => {
    it('should show them as components of each task, every $ref pointing at one that exists', async () => {
      const document = (await app.inject({ method: 'GET', url: '/openapi.json' })).json();
      const schemas = document.components.schemas as Record<string, unknown>;
      const body = document.paths['/ship'].post.requestBody.content['application/json'].schema;
      expect(body.properties.from).toEqual({ $ref: '#/components/schemas/run_ship.Address' });
      expect(body.definitions).toBeUndefined();
      expect(schemas['run_ship.Address']).toMatchObject({ type: 'object', properties: { city: {} } });
      expect(schemas['run_bill.Address']).toBeDefined();
      const refs = JSON.stringify(document).match(/"#\/components\/schemas\/[^"]+"/g) ?? [];
      expect(refs.length).toBeGreaterThan(0);
      for (const ref of refs) expect(schemas[ref.slice('"#/components/schemas/'.length, -1)]).toBeDefined();
    });
  });

  describe('when a body is checked against them', () => {
    it('should accept a good one and refuse a bad one deep in a recursive part', async () => {
      const good = await app.inject({
        method: 'POST',
        url: '/ship?wait=5',
        payload: { from: { city: 'Lyon' }, to: { city: 'Oslo' }, category: { name: 'a', children: [] } },
      });
      expect(good.json()).toMatchObject({ status: 'completed', result: 'Oslo' });
      const bad = await app.inject({
        method: 'POST',
        url: '/ship?wait=5',
        payload: {
          from: { city: 'Lyon' },
          to: { city: 'Oslo' },
          category: { name: 'a', children: [{ name: 'b', children: [{ name: 3, children: [] }] }] },
        },
      });
      expect(bad.statusCode).toBe(400);
      expect(bad.json().error.code).toBe('INVALID_INPUT');
    });
  });
});
