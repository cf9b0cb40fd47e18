import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { HttpError } from './errors/http-error';

/**
 * An `onRequest` hook accepting `Authorization: Bearer <key>` for one of `apiKeys`.
 * Keys are compared as SHA-256 digests in constant time. `isPublic` names the routes
 * that need no key (health probes, docs).
 */
export function bearerAuth(
  apiKeys: readonly string[],
  isPublic: (request: FastifyRequest) => boolean,
): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
  const digests = apiKeys.map(digest);
  return async (request) => {
    if (isPublic(request)) return;
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (match === null) {
      throw new HttpError(401, 'UNAUTHORIZED', 'an API key is required: send "Authorization: Bearer <key>"');
    }
    const given = digest(match[1]!);
    let accepted = false;
    for (const candidate of digests) accepted = timingSafeEqual(given, candidate) || accepted;
    if (!accepted) throw new HttpError(401, 'UNAUTHORIZED', 'the API key is not valid');
  };
}

function digest(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}
