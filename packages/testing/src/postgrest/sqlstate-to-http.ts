/** PostgREST's HTTP status for a PostgreSQL error (its documented table, as far as au meets it). */
export function sqlStateToHttp(code: string, anonymous: boolean): number {
  if (/^PT\d{3}$/.test(code)) return Number(code.slice(2));
  if (code === '42501') return anonymous ? 401 : 403;
  if (code === '23505' || code === '23503') return 409;
  if (code === '25006') return 405;
  if (code === '42883' || code === '42P01') return 404;
  if (code === 'P0001') return 400;
  if (code.startsWith('40') || code.startsWith('57') || code.startsWith('XX')) return 500;
  if (code.startsWith('08') || code.startsWith('53')) return 503;
  if (code === '54000' || code.startsWith('54')) return 500;
  return 400;
}
