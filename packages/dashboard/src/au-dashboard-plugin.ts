import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import fp from 'fastify-plugin';
import type { AuDashboardOptions } from './au-dashboard-options';
import { type DashboardAsset, loadDashboardAssets } from './dashboard-assets';

const NAME = '@au/dashboard';

// The page talks to this origin only: scripts, styles and requests from elsewhere are refused.
const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

const plugin: FastifyPluginAsync<AuDashboardOptions> = async (app, options) => {
  const prefix = normalizePrefix(options.prefix ?? '/ui');
  if (prefix === '')
    throw new TypeError('[au] [dashboard] prefix cannot be "/": serve the page under a path like /ui');
  const apiPrefix = normalizePrefix(options.apiPrefix ?? '');
  const title = options.title ?? 'au dashboard';
  let assets: Promise<Map<string, DashboardAsset>> | undefined;
  const load = () => {
    assets ??= loadDashboardAssets().catch((error: unknown) => {
      assets = undefined;
      throw error;
    });
    return assets;
  };

  const send = async (name: string, reply: FastifyReply) => {
    const asset = (await load()).get(name);
    if (asset === undefined) {
      return reply
        .code(404)
        .type('application/json; charset=utf-8')
        .send({
          error: { code: 'NOT_FOUND', message: `no file ${prefix}/${name}: the dashboard is at ${prefix}/` },
        });
    }
    const body =
      name === 'index.html'
        ? Buffer.from(
            asset.body
              .toString('utf8')
              .replaceAll('%AU_API_PREFIX%', escapeHtml(apiPrefix))
              .replaceAll('%AU_TITLE%', escapeHtml(title)),
          )
        : asset.body;
    return reply
      .header('content-security-policy', CONTENT_SECURITY_POLICY)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('cache-control', name === 'index.html' ? 'no-cache' : 'public, max-age=300')
      .type(asset.contentType)
      .send(body);
  };

  app.get(prefix, (_request, reply) => reply.redirect(`${prefix}/`));
  app.get(`${prefix}/`, (_request, reply) => send('index.html', reply));
  app.get<{ Params: { file: string } }>(`${prefix}/:file`, (request, reply) =>
    send(request.params.file, reply),
  );
  if (options.redirectRoot !== false) {
    app.get('/', (_request, reply) => reply.redirect(`${prefix}/`));
  }
};

/**
 * The au dashboard as a Fastify plugin: the page at `/ui/` (and `/` redirects there),
 * talking to the `@au/http` API of the same server.
 * `await app.register(auDashboard)` after `auHttp`.
 */
export const auDashboard = fp(plugin, { name: NAME, fastify: '5.x' });

function normalizePrefix(prefix: string): string {
  if (prefix === '' || prefix === '/') return '';
  const withSlash = prefix.startsWith('/') ? prefix : `/${prefix}`;
  return withSlash.endsWith('/') ? withSlash.slice(0, -1) : withSlash;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}
