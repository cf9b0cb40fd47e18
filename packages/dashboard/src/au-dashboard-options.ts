/** Options of the `auDashboard` Fastify plugin. */
export interface AuDashboardOptions {
  /** Where the page is served. @default '/ui' */
  prefix?: string;
  /**
   * Where the `@au/http` API is mounted (its `prefix` option), as the page sees it.
   * @default ''
   */
  apiPrefix?: string;
  /** Redirect `GET /` to the dashboard. Set it to false when the app serves `/` itself. @default true */
  redirectRoot?: boolean;
  /** The page title. @default 'au dashboard' */
  title?: string;
}
