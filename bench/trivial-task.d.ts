import type { TaskDefinition } from '@au/core';

export declare const trivial: TaskDefinition<number, number>;
export default function trivialHandler(n: number): number;
