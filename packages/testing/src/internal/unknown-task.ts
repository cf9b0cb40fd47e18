import { defineTask } from '@au/core';

/** A task that no conformance module exports: backends that run tasks by name must refuse it. */
export const unknownTask = defineTask({ name: 'au-conformance.not-in-any-module', run: () => 'never' });
