import {
  defineTask,
  InProcessBackend,
  MemoryStore,
  QueueFullError,
  RoutingBackend,
  submitTask,
} from '@au/core';

const store = new MemoryStore();
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// 1. A bounded queue: one runs, two may wait, the fourth is refused at once.
const resize = defineTask({
  name: 'resize',
  maxQueued: 2,
  run: async (image: string) => {
    await pause(50);
    return `${image} resized`;
  },
});
const oneAtATime = new InProcessBackend({ concurrency: 1 });
for (const image of ['a.png', 'b.png', 'c.png', 'd.png']) {
  try {
    await submitTask(resize, image, { store, backend: oneAtATime });
  } catch (error) {
    if (!QueueFullError.isInstance(error)) throw error;
    console.log(`${image}: ${error.code}, retry in ${error.retryAfter} ms`);
  }
}

// 2. Routing by resource hint: CPU-bound work to one backend, I/O-bound to another.
const crunch = defineTask({
  name: 'crunch',
  resources: 'cpu',
  run: (words: string) => words.split(' ').length,
});
const fetchPage = defineTask({
  name: 'fetch-page',
  resources: 'io',
  run: async (url: string) => {
    await pause(10);
    if (url.endsWith('/missing')) throw new Error(`404 for ${url}`);
    return `<html>${url}</html>`;
  },
});
// In production the cpu route would be a ProcessBackend or ThreadsBackend.
const cpu = new InProcessBackend({ concurrency: 1 });
const io = new InProcessBackend({ concurrency: 50 });
const routing = new RoutingBackend({ routes: { cpu, io } });
console.log(routing.route(crunch) === cpu, routing.route(fetchPage) === io);

// 3. Dependencies: parse once the download completed; a failed download ends its parse.
const download = await submitTask(fetchPage, 'https://example.com', { store, backend: routing });
const parse = await submitTask(crunch, 'count these words', {
  store,
  backend: routing,
  dependsOn: [download.key],
});
console.log(await parse.result());

const missing = await submitTask(fetchPage, 'https://example.com/missing', { store, backend: routing });
const never = await submitTask(crunch, 'never counted', {
  store,
  backend: routing,
  dependsOn: [missing.key],
});
await never.result().catch(() => undefined);
const ended = await never.record();
console.log(ended.status, ended.error?.name);

await Promise.all([oneAtATime.close(), routing.close()]);
