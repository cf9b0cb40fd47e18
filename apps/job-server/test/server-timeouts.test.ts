import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InProcessBackend, MemoryStore, TaskRegistry } from '@au/core';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { buildServer } from '../src/build-server';
import { UsageError } from '../src/errors/usage-error';
import { readConfiguration } from '../src/load-config';
import * as sampleTasks from '../src/sample-tasks';
import { readServerSettings } from '../src/server-settings';

const silent = pino({ level: 'silent' });

describe('server timeouts', () => {
  let app: FastifyInstance | undefined;
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await app?.close();
    await close?.();
    app = undefined;
  });

  /** A listening job server with these settings; resolves its port. */
  async function listen(env: Record<string, string>): Promise<number> {
    const store = new MemoryStore();
    const backend = new InProcessBackend();
    close = async () => {
      await backend.close({ timeout: 0 });
      await store.close();
    };
    app = await buildServer({
      store,
      backend,
      tasks: new TaskRegistry(Object.values(sampleTasks)),
      settings: readServerSettings(env),
      logger: silent,
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    return (app.server.address() as { port: number }).port;
  }

  /** Opens a real socket, writes `data` and never finishes: resolves what the server said before it closed the socket. */
  async function slowClient(port: number, data: string): Promise<string> {
    const socket = connect(port, '127.0.0.1');
    await once(socket, 'connect');
    let answer = '';
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString('utf8');
    });
    socket.on('error', () => undefined);
    if (data !== '') socket.write(data);
    await once(socket, 'close');
    return answer;
  }

  describe('when a client sends its body too slowly', () => {
    it('should answer 408 and close the connection', async () => {
      const port = await listen({ AU_REQUEST_TIMEOUT_MS: '400', AU_HEADERS_TIMEOUT_MS: '300' });
      const answer = await slowClient(
        port,
        'POST /factorial HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"n":',
      );
      expect(answer).toMatch(/^HTTP\/1\.1 408/);
    });
  });

  describe('when a client sends its headers too slowly', () => {
    it('should answer 408 and close the connection', async () => {
      const port = await listen({ AU_REQUEST_TIMEOUT_MS: '400', AU_HEADERS_TIMEOUT_MS: '300' });
      const answer = await slowClient(port, 'GET /healthz HTTP/1.1\r\nhost: x\r\n');
      expect(answer).toMatch(/^HTTP\/1\.1 408/);
    });
  });

  describe('when a connection stays silent', () => {
    it('should close it after the connection timeout', async () => {
      const port = await listen({ AU_MAX_WAIT_SECONDS: '0.1', AU_CONNECTION_TIMEOUT_MS: '300' });
      // Nothing sent: only the idle timeout can end it (the request timeouts are 30 s and 10 s).
      expect(await slowClient(port, '')).toBe('');
    });
  });

  describe('when the timeouts are set badly', () => {
    it.each([
      [{ AU_REQUEST_TIMEOUT_MS: 'soon' }, /AU_REQUEST_TIMEOUT_MS must be a whole number/],
      [
        { AU_REQUEST_TIMEOUT_MS: '1000', AU_HEADERS_TIMEOUT_MS: '2000' },
        /must not be longer than AU_REQUEST/,
      ],
      [{ AU_CONNECTION_TIMEOUT_MS: '5000' }, /longer than the longest wait, AU_MAX_WAIT_SECONDS \(60 s\)/],
    ])('should refuse %o with a UsageError', (env, message) => {
      const error = (() => {
        try {
          readServerSettings(env);
        } catch (caught) {
          return caught;
        }
      })();
      expect(UsageError.isInstance(error)).toBe(true);
      expect((error as Error).message).toMatch(message);
    });

    it('should read them from a config file, the environment winning', async () => {
      const directory = await mkdtemp(join(tmpdir(), 'au-timeouts-'));
      try {
        const file = join(directory, 'au.config.json');
        await writeFile(
          file,
          JSON.stringify({ server: { requestTimeoutMs: 5000, connectionTimeoutMs: 90_000 } }),
        );
        const { settings } = await readConfiguration(
          { AU_HEADERS_TIMEOUT_MS: '2000', AU_CONNECTION_TIMEOUT_MS: '95000' },
          { configFile: file, cwd: directory },
        );
        expect(settings).toMatchObject({
          requestTimeout: 5000,
          headersTimeout: 2000,
          connectionTimeout: 95_000,
        });
      } finally {
        await rm(directory, { recursive: true, force: true });
      }
    });

    it('should default the connection timeout past the longest wait', () => {
      expect(readServerSettings({ AU_MAX_WAIT_SECONDS: '300' }).connectionTimeout).toBe(330_000);
      expect(readServerSettings({})).toMatchObject({
        requestTimeout: 30_000,
        headersTimeout: 10_000,
        connectionTimeout: 120_000,
      });
    });
  });
});
