/** The backends `AU_BACKEND` names, and which of them take work from a shared queue. */
export const KNOWN_BACKENDS: readonly { value: string; distributed: boolean }[] = [
  { value: 'inline', distributed: false },
  { value: 'threads', distributed: false },
  { value: 'process', distributed: false },
  { value: 'bullmq', distributed: true },
  { value: 'postgres', distributed: true },
  { value: 'supabase', distributed: true },
];
