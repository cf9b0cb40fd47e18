import { InProcessBackend, MemoryStore, ValidationError } from '@au/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineStage, PipelineDefinitionError, pipeline } from '../src/index';
import { analyse, Document } from './fixtures/tasks';

let store: MemoryStore;
let backend: InProcessBackend;

beforeEach(() => {
  store = new MemoryStore();
  backend = new InProcessBackend();
});

afterEach(async () => {
  await backend.close({ timeout: 1000 });
  await store.close();
});

const trim = defineStage<Document>('trim', (document) => ({
  ...document,
  text: document.text.trim(),
  trail: [...document.trail, 'trim'],
}));

describe('pipeline', () => {
  describe('when there is no dispatch', () => {
    it('should run every stage in the caller and resolve with the validated context', async () => {
      const result = await pipeline({ name: 'local', context: Document })
        .use(trim)
        .use((document) => ({ ...document, trail: [...document.trail, 'inline'] }))
        .run({ text: '  a b ' } as Document);
      expect(result).toEqual({ text: 'a b', words: [], trail: ['trim', 'inline'], where: [] });
    });

    it('should refuse an input that does not match the schema', async () => {
      const error = await pipeline({ name: 'strict', context: Document })
        .use(trim)
        .run({ text: 3 } as unknown as Document)
        .catch((caught: unknown) => caught);
      expect(ValidationError.isInstance(error)).toBe(true);
      expect((error as Error).message).toContain('pipeline "strict" input');
    });

    it('should name the stage that broke the context', async () => {
      const broken = defineStage<Document>(
        'breaks',
        (document) => ({ ...document, text: 42 }) as unknown as Document,
      );
      const error = await pipeline({ name: 'p', context: Document })
        .use(trim)
        .use(broken)
        .run({ text: 'x' } as Document)
        .catch((caught: unknown) => caught);
      expect((error as Error).message).toContain('pipeline "p" after stage "breaks"');
    });
  });

  describe('when stages come on both sides of the dispatch', () => {
    it('should run the first half in the caller and the rest as one computation', async () => {
      const seenBefore: string[] = [];
      const handle = await pipeline({ name: 'both', context: Document })
        .use((document) => {
          seenBefore.push('caller');
          return { ...document, trail: [...document.trail, 'caller'] };
        })
        .dispatch(backend, { store })
        .use(
          defineStage<Document>('remote-a', (document, tools) => {
            tools.progress({ step: 'a' });
            return { ...document, trail: [...document.trail, 'remote-a'] };
          }),
        )
        .use((document) => ({ ...document, trail: [...document.trail, 'remote-b'] }))
        .run({ text: 'hello world' } as Document, { key: 'pipe-1' });
      expect(seenBefore).toEqual(['caller']);
      expect(handle.key).toBe('pipe-1');
      const result = await handle.result({ timeout: 5000 });
      expect(result.trail).toEqual(['caller', 'remote-a', 'remote-b']);
      const record = await store.get('pipe-1');
      expect(record?.task).toMatch(/^pipeline:both:/);
      expect(record?.args).toEqual({ text: 'hello world', words: [], trail: ['caller'], where: [] });
    });

    it('should launch a definePipeline task by name when it is the only stage after dispatch', async () => {
      const handle = await pipeline({ context: Document })
        .use(trim)
        .dispatch(backend, { store })
        .use(analyse)
        .run({
          text: ' one two ',
        } as Document);
      expect((await store.get(handle.key))?.task).toBe('wf.analyse');
      const result = await handle.result({ timeout: 5000 });
      expect(result.words).toEqual(['ONE', 'TWO']);
      expect(result.trail).toEqual(['trim', 'split', 'upper']);
    });

    it('should fail the computation when a remote stage breaks the context', async () => {
      const handle = await pipeline({ name: 'remote-bad', context: z.object({ n: z.number() }) })
        .dispatch(backend, { store })
        .use(function halve(context) {
          return { n: String(context.n / 2) } as unknown as { n: number };
        })
        .run({ n: 4 });
      await expect(handle.result({ timeout: 5000 })).rejects.toThrowError(/after stage "halve"/);
    });
  });

  describe('when the pipeline is put together wrongly', () => {
    it('should refuse a second dispatch with a clear message', () => {
      const dispatched = pipeline({ name: 'twice' }).dispatch(backend, { store });
      let caught: unknown;
      try {
        dispatched.use((x) => x).dispatch(backend);
      } catch (error) {
        caught = error;
      }
      expect(PipelineDefinitionError.isInstance(caught)).toBe(true);
      expect((caught as Error).message).toContain('pipeline "twice": dispatch() was already called');
    });

    it('should refuse nothing after the dispatch', async () => {
      await expect(pipeline({ name: 'empty' }).dispatch(backend, { store }).run({})).rejects.toThrowError(
        /nothing after dispatch\(\)/,
      );
    });

    it('should refuse inline stages on a backend that runs tasks by name, pointing at definePipeline', async () => {
      const byName = Object.assign(Object.create(backend) as InProcessBackend, {
        name: 'by-name',
        capabilities: { ...backend.capabilities, inlineFunctions: false },
      });
      await expect(
        pipeline({ name: 'named' })
          .dispatch(byName, { store })
          .use((x) => x)
          .run({}),
      ).rejects.toThrowError(/backend by-name runs tasks by name.*definePipeline/);
    });

    it('should refuse something that is not a stage', () => {
      expect(() => pipeline({ name: 'bad' }).use(42 as never)).toThrowError(/use\(\) takes a function/);
    });
  });
});
