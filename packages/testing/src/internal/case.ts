import { it, type TestContext } from 'vitest';

/** Declares one conformance case: `it(title [id])`, skipped when `skip` names its id or title. */
export type CaseDeclarer = (
  id: string,
  title: string,
  body: (context: TestContext) => Promise<void>,
  options?: { timeout?: number; when?: boolean },
) => void;

export function caseDeclarer(skip: readonly string[] = []): CaseDeclarer {
  return (id, title, body, { timeout, when = true } = {}) => {
    const name = `${title} [${id}]`;
    if (!when || skip.includes(id) || skip.includes(title)) it.skip(name, body);
    else it(name, body, timeout);
  };
}
