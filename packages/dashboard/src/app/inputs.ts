const STORAGE_KEY = 'au.inputs';
const KEEP = 200;

/**
 * The inputs of computations submitted from this tab. The API does not return a
 * computation's input, so the detail view shows it only for these.
 */
export function rememberInput(taskId: string, input: unknown): void {
  const inputs = readAll();
  inputs[taskId] = input;
  const keys = Object.keys(inputs);
  for (const key of keys.slice(0, Math.max(0, keys.length - KEEP))) delete inputs[key];
  sessionStorage.setItem(STORAGE_KEY, JSON.stringify(inputs));
}

export function recalledInput(taskId: string): { value: unknown } | undefined {
  const inputs = readAll();
  return taskId in inputs ? { value: inputs[taskId] } : undefined;
}

function readAll(): Record<string, unknown> {
  try {
    return JSON.parse(sessionStorage.getItem(STORAGE_KEY) ?? '{}') as Record<string, unknown>;
  } catch {
    return {};
  }
}
