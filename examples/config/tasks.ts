// The task module the example config files name: every process that runs tasks imports it.
import { defineTask } from '@au/core';

export const greet = defineTask({
  name: 'greet',
  run: ({ name }: { name: string }) => `hello ${name}`,
});
