// TaskGraph overhead: a graph of 1,000 trivial nodes (10 layers of 100; each node after
// the first layer depends on two nodes of the layer before, so fan-out and fan-in are 2
// and every layer is 100 wide) on InProcessBackend + MemoryStore, against launching the
// same 1,000 computations directly, layer by layer, with asyncCompute and handle.result().
// Goal: graph time ≤ 1.5 × direct time.
import { asyncCompute, defineTask, InProcessBackend, MemoryStore } from '@au/core';
// Relative import: the root package.json does not list @au/workflow (the lead may add it).
import { type NodeRef, TaskGraph } from '@au/workflow';

const WIDTH = 100;
const DEPTH = 10;
const ROUNDS = Number(process.argv[2] ?? 9);
const WARM_UP = 3;

const add = defineTask({ name: 'bench.add', run: (values: number[]) => values.reduce((a, b) => a + b, 0) });

function parentsOf(index: number): [number, number] {
  return [index, (index + 1) % WIDTH];
}

async function direct(): Promise<number> {
  const store = new MemoryStore();
  const backend = new InProcessBackend({ concurrency: 100 });
  const compute = asyncCompute(add, { store, backend });
  let previous: number[] = [];
  for (let layer = 0; layer < DEPTH; layer++) {
    const handles = await Promise.all(
      Array.from({ length: WIDTH }, (_, index) => {
        const args = layer === 0 ? [index] : parentsOf(index).map((parent) => previous[parent]!);
        return compute(args);
      }),
    );
    previous = await Promise.all(handles.map((handle) => handle.result()));
  }
  await backend.close();
  return previous.reduce((a, b) => a + b, 0);
}

async function graph(): Promise<number> {
  const store = new MemoryStore();
  const backend = new InProcessBackend({ concurrency: 100 });
  const g = new TaskGraph({ store, backend });
  let previous: NodeRef<number>[] = [];
  for (let layer = 0; layer < DEPTH; layer++) {
    const current: NodeRef<number>[] = [];
    for (let index = 0; index < WIDTH; index++) {
      if (layer === 0) current.push(g.add(add, [index], { id: `l0-${index}` }));
      else {
        const [a, b] = parentsOf(index);
        current.push(
          g.add(add, (values) => values, {
            id: `l${layer}-${index}`,
            dependsOn: [previous[a]!, previous[b]!],
          }),
        );
      }
    }
    previous = current;
  }
  const results = await g.run();
  await backend.close();
  return previous.reduce((total, ref) => total + results.get(ref), 0);
}

// Wall time, and CPU time of this process (less disturbed by other processes on a busy machine).
async function time(fn: () => Promise<number>): Promise<{ ms: number; cpu: number; checksum: number }> {
  const start = process.hrtime.bigint();
  const cpuStart = process.cpuUsage();
  const checksum = await fn();
  const cpu = process.cpuUsage(cpuStart);
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, cpu: (cpu.user + cpu.system) / 1000, checksum };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

for (let round = 0; round < WARM_UP; round++) {
  await direct();
  await graph();
}
const directTimes: number[] = [];
const graphTimes: number[] = [];
const directCpu: number[] = [];
const graphCpu: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  const d = await time(direct);
  const g = await time(graph);
  if (d.checksum !== g.checksum)
    throw new Error(`checksums differ: direct ${d.checksum}, graph ${g.checksum}`);
  directTimes.push(d.ms);
  graphTimes.push(g.ms);
  directCpu.push(d.cpu);
  graphCpu.push(g.cpu);
}
const directMs = median(directTimes);
const graphMs = median(graphTimes);
const nodes = WIDTH * DEPTH;
console.log(
  `workflow: ${nodes} trivial nodes (${DEPTH} layers × ${WIDTH}), InProcessBackend + MemoryStore, median of ${ROUNDS} alternating rounds after ${WARM_UP} warm-up rounds`,
);
console.log(
  `  direct (asyncCompute, layer by layer): ${directMs.toFixed(1)} ms  (${((nodes / directMs) * 1000).toFixed(0)} computations/s)`,
);
console.log(
  `  TaskGraph.run():                       ${graphMs.toFixed(1)} ms  (${((nodes / graphMs) * 1000).toFixed(0)} nodes/s)`,
);
console.log(`  ratio graph / direct: ${(graphMs / directMs).toFixed(2)}×  (goal ≤ 1.5×)`);
console.log(
  `  CPU time: direct ${median(directCpu).toFixed(1)} ms, graph ${median(graphCpu).toFixed(1)} ms, ratio ${(median(graphCpu) / median(directCpu)).toFixed(2)}×`,
);
console.log(
  `  rounds (ms) direct: ${directTimes.map((t) => t.toFixed(0)).join(', ')}; graph: ${graphTimes.map((t) => t.toFixed(0)).join(', ')}`,
);
