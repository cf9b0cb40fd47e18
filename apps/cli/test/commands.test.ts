import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { FileSystemStore } from '@au/store-fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli';
import { captureIo } from './capture-io';
import {
  CLI_MAIN,
  type JobServerProcess,
  REPO_ROOT,
  runProgram,
  startJobServer,
  TS_EXEC_ARGV,
  withoutNodeEnv,
} from './job-server-process';

// Every command end to end against the real job server (apps/job-server), started on
// a free port with a memory store and the inline backend; a second one requires an API key.
let server: JobServerProcess;
let securedServer: JobServerProcess;

beforeAll(async () => {
  [server, securedServer] = await Promise.all([startJobServer(), startJobServer({ AU_API_KEYS: 'sesame' })]);
}, 90_000);

afterAll(async () => {
  await Promise.all([server?.stop(), securedServer?.stop()]);
});

async function au(argv: string[], env: Record<string, string | undefined> = {}) {
  const io = captureIo();
  const code = await runCli(argv, { io, env: { AU_URL: server.url, ...env } });
  return { code, stdout: io.stdout, stderr: io.stderr };
}

async function submitAsync(task: string, ...pairs: string[]): Promise<string> {
  const { code, stdout } = await au(['submit', task, ...pairs, '--async']);
  expect(code).toBe(0);
  return stdout.trim();
}

describe('au tasks', () => {
  describe('when the server serves the sample tasks', () => {
    it('should list them with their input fields', async () => {
      const { code, stdout } = await au(['tasks']);
      expect(code).toBe(0);
      expect(stdout).toMatch(/^factorial {2}n! computed exactly/m);
      expect(stdout).toContain('n: integer 0..20000 (required)');
      expect(stdout).toContain('message: string (default "this task always fails")');
    });

    it('should print JSON with --json', async () => {
      const { code, stdout } = await au(['tasks', '--json']);
      expect(code).toBe(0);
      const tasks = JSON.parse(stdout) as { name: string }[];
      expect(tasks.map((task) => task.name)).toEqual(['factorial', 'fail', 'primes', 'sleep']);
    });
  });
});

describe('au submit', () => {
  describe('when the task completes', () => {
    it('should print the result and exit 0', async () => {
      const { code, stdout } = await au(['submit', 'factorial', 'n=10']);
      expect(code).toBe(0);
      expect(stdout).toBe('3628800\n');
    });

    it('should print the outcome as JSON with --json', async () => {
      const { code, stdout } = await au(['submit', 'primes', '--input', '{"limit": 10000}', '--json']);
      expect(code).toBe(0);
      expect(JSON.parse(stdout)).toMatchObject({
        status: 'completed',
        result: { limit: 10000, count: 1229 },
      });
    });
  });

  describe('when the task fails', () => {
    it('should print the error with the remote stack and exit 1', async () => {
      const { code, stdout, stderr } = await au(['submit', 'fail', 'message=boom']);
      expect(code).toBe(1);
      expect(stdout).toBe('');
      expect(stderr).toMatch(/fail \S+ failed: SAMPLE_FAILURE: boom/);
      expect(stderr).toContain('sample-tasks.ts');
    });
  });

  describe('when the task name is misspelt', () => {
    it('should suggest the close match and exit 2', async () => {
      const { code, stderr } = await au(['submit', 'factorail', 'n=3']);
      expect(code).toBe(2);
      expect(stderr).toContain('no task "factorail"');
      expect(stderr).toContain('did you mean "factorial"?');
    });
  });

  describe('when the input is invalid', () => {
    it('should show the issues and exit 2', async () => {
      const { code, stderr } = await au(['submit', 'sleep', 'seconds=soon']);
      expect(code).toBe(2);
      expect(stderr).toMatch(/not valid for this task:\n {2}- seconds: /);
    });
  });

  describe('when --async is given', () => {
    it('should print only the id, at once', async () => {
      const id = await submitAsync('sleep', 'seconds=30');
      expect(id).toMatch(/^[\w.:-]+$/);
      await au(['cancel', id]);
    });
  });

  describe('when launch options are given', () => {
    it('should launch with them, join the same key and input, and refuse another input with exit 2', async () => {
      const key = `cli-${Math.random().toString(36).slice(2)}`;
      const flags = [
        '--key',
        key,
        '--priority',
        '5',
        '--delay',
        '10',
        '--tag',
        'nightly',
        '-t',
        'a,b',
        '--ttl',
        '600',
      ];
      const first = await au(['submit', 'factorial', 'n=5', ...flags, '--json']);
      expect(first.code).toBe(0);
      expect(JSON.parse(first.stdout)).toMatchObject({ taskId: key, status: 'completed' });
      const status = await au(['status', key, '--json']);
      expect(JSON.parse(status.stdout)).toMatchObject({ priority: 5, tags: ['nightly', 'a', 'b'] });
      const joined = await au(['submit', 'factorial', 'n=5', '--key', key, '--async']);
      expect(joined.stdout.trim()).toBe(key);
      const conflict = await au(['submit', 'factorial', 'n=6', '--key', key]);
      expect(conflict.code).toBe(2);
      expect(conflict.stderr).toContain(`key "${key}" already names a computation with another input`);
      const again = await au([
        'submit',
        'factorial',
        'n=6',
        '--key',
        key,
        '--idempotency-window',
        '0',
        '--json',
      ]);
      expect(again.code).toBe(0);
      expect(JSON.parse(again.stdout)).toMatchObject({ taskId: key, status: 'completed' });
    });
  });

  describe('when --wait runs out before the end', () => {
    it('should say it is still running and exit 0', async () => {
      const { code, stdout, stderr } = await au(['submit', 'sleep', 'seconds=30', '--wait', '0.5', '--json']);
      expect(code).toBe(0);
      const outcome = JSON.parse(stdout) as { taskId: string; status: string };
      expect(outcome.status).toBe('running');
      expect(stderr).toBe('');
      await au(['cancel', outcome.taskId]);
    });
  });
});

describe('au status, au cancel and au result', () => {
  describe('when a running computation is cancelled', () => {
    it('should report it running, cancel it, then report it cancelled with exit 1', async () => {
      const id = await submitAsync('sleep', 'seconds=30');
      const running = await au(['status', id, '--json']);
      expect(running.code).toBe(0);
      expect(JSON.parse(running.stdout)).toMatchObject({ taskId: id, task: 'sleep' });

      const cancel = await au(['cancel', id]);
      expect(cancel).toMatchObject({ code: 0, stdout: `cancelled ${id}\n` });
      const again = await au(['cancel', id]);
      expect(again.stdout).toContain('had already ended (cancelled)');

      const status = await au(['status', id]);
      expect(status.code).toBe(1);
      expect(status.stdout).toMatch(/status +cancelled/);
      const result = await au(['result', id]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`${id} cancelled`);
    });
  });

  describe('when waiting for a result with --wait', () => {
    it('should follow the computation to its result', async () => {
      const id = await submitAsync('sleep', 'seconds=0.6');
      const { code, stdout } = await au(['result', id, '--wait', '--json']);
      expect(code).toBe(0);
      expect(JSON.parse(stdout)).toEqual({ taskId: id, status: 'completed', result: { slept: 0.6 } });
      const status = await au(['status', id]);
      expect(status.stdout).toMatch(/progress +\[##########\] 100%/);
    });
  });

  describe('when the id is unknown', () => {
    it.each([['status'], ['result'], ['cancel']])('should say so for %s and exit 3', async (command) => {
      const { code, stderr } = await au([command, 'no-such-id']);
      expect(code).toBe(3);
      expect(stderr).toContain('no computation "no-such-id"');
    });
  });
});

describe('au schedules', () => {
  describe('when a schedule is created, shown, paused, resumed and deleted', () => {
    it('should do each and fire the task on the server', async () => {
      const created = await au([
        'schedules',
        'create',
        'factorial',
        'n=5',
        '--every',
        '200ms',
        '--id',
        'cli-fact',
      ]);
      expect(created.code).toBe(0);
      expect(created.stdout).toMatch(/^id\s+cli-fact$/m);
      expect(created.stdout).toMatch(/^when\s+every 200ms$/m);
      const listed = await au(['schedules']);
      expect(listed.stdout).toMatch(/^ID\s+TASK\s+WHEN/m);
      expect(listed.stdout).toMatch(/^cli-fact\s+factorial\s+every 200ms\s+active/m);
      let lastTaskId: string | undefined;
      for (let tries = 0; tries < 100 && lastTaskId === undefined; tries++) {
        const shown = await au(['schedules', 'show', 'cli-fact', '--json']);
        lastTaskId = (JSON.parse(shown.stdout) as { lastTaskId?: string }).lastTaskId;
        if (lastTaskId === undefined) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(lastTaskId).toMatch(/^cli-fact:\d+$/);
      const result = await au(['result', lastTaskId!, '--wait', '5']);
      expect(result.stdout).toBe('120\n');
      expect((await au(['schedules', 'pause', 'cli-fact'])).stdout).toMatch(/^state\s+paused$/m);
      expect((await au(['schedules', 'resume', 'cli-fact'])).stdout).toMatch(/^state\s+active$/m);
      expect(await au(['schedules', 'delete', 'cli-fact'])).toMatchObject({
        code: 0,
        stdout: 'deleted schedule cli-fact\n',
      });
    });
  });

  describe('when the schedule is bad or unknown', () => {
    it('should exit 2 with the reason for a bad cron expression, and change nothing', async () => {
      const { code, stderr } = await au([
        'schedules',
        'create',
        'factorial',
        'n=5',
        '--cron',
        'at noon',
        '--id',
        'cli-bad',
      ]);
      expect(code).toBe(2);
      expect(stderr).toMatch(/cron "at noon" is not a valid cron expression/);
      expect((await au(['schedules', 'show', 'cli-bad'])).code).toBe(3);
    });

    it('should exit 2 without --cron or --every', async () => {
      const { code, stderr } = await au(['schedules', 'create', 'factorial', 'n=5']);
      expect(code).toBe(2);
      expect(stderr).toMatch(/exactly one of --cron/);
    });

    it('should exit 3 naming an unknown schedule', async () => {
      const { code, stderr } = await au(['schedules', 'pause', 'no-such-schedule']);
      expect(code).toBe(3);
      expect(stderr).toMatch(/no schedule "no-such-schedule"/);
    });
  });
});

describe('au retry, au redrive and au dead-letters', () => {
  describe('when a task fails', () => {
    it('should list, count, retry, redrive and purge it, and refuse what cannot be done', async () => {
      const failed = await au(['submit', 'fail', 'message=dead', '--json']);
      expect(failed.code).toBe(1);
      const id = JSON.parse(failed.stdout).taskId as string;

      const count = await au(['dead-letters', 'count', '--task', 'fail']);
      expect(count.code).toBe(0);
      expect(Number(count.stdout.trim())).toBeGreaterThanOrEqual(1);
      const list = await au(['dead-letters', '--task', 'fail', '--limit', '1000', '--json']);
      expect(JSON.parse(list.stdout).items.map((item: { taskId: string }) => item.taskId)).toContain(id);

      const retry = await au(['retry', id]);
      expect(retry).toMatchObject({ code: 0 });
      expect(retry.stdout).toContain(`retrying ${id} (attempt 1 failed)`);
      await au(['result', id, '--wait']);
      const status = await au(['status', id, '--json']);
      expect(JSON.parse(status.stdout).history).toHaveLength(1);

      const redrive = await au(['redrive', '--task', 'fail', '--since', '1h', '--json']);
      expect(redrive.code).toBe(0);
      expect(JSON.parse(redrive.stdout).taskIds).toContain(id);
      await au(['result', id, '--wait']);

      const purge = await au(['dead-letters', 'purge', '--task', 'fail']);
      expect(purge.code).toBe(0);
      expect(purge.stdout).toMatch(/^purged \d+ dead letters?\n$/);
      const nothing = await au(['redrive', '--task', 'fail']);
      expect(nothing.code).toBe(2);
      expect(nothing.stderr).toContain('no failed or cancelled computation matches');
    });
  });

  describe('when the computation may not be retried', () => {
    it('should say why for a running one (exit 2) and an unknown id (exit 3)', async () => {
      const id = await submitAsync('sleep', 'seconds=30');
      const running = await au(['retry', id]);
      expect(running.code).toBe(2);
      expect(running.stderr).toContain('only a failed or cancelled computation can be retried');
      await au(['cancel', id]);
      const unknown = await au(['retry', 'no-such-id']);
      expect(unknown.code).toBe(3);
      expect(unknown.stderr).toContain('no computation "no-such-id"');
    });
  });
});

describe('progress bars', () => {
  describe('when stdout is a terminal', () => {
    it('should draw a bar that moves with the events, then print the result', async () => {
      let drawn = '';
      const terminal = Object.assign(
        new Writable({
          write(chunk, _encoding, done) {
            drawn += String(chunk);
            done();
          },
        }),
        {
          isTTY: true,
          columns: 120,
        },
      );
      const io = captureIo();
      io.interactive = true;
      io.barStream = terminal;
      const code = await runCli(['submit', 'sleep', 'seconds=1'], { io, env: { AU_URL: server.url } });
      expect(code).toBe(0);
      expect(io.stdout).toBe('{\n  "slept": 1\n}\n');
      const percents = new Set([...drawn.matchAll(/ (\d+)% \| \w+ sleep /g)].map((match) => match[1]));
      expect(percents.size).toBeGreaterThanOrEqual(3);
      expect(percents.has('100')).toBe(true);
    });
  });

  describe('when stdout is not a terminal', () => {
    it('should draw nothing', async () => {
      const { code, stdout, stderr } = await au(['submit', 'sleep', 'seconds=0.3']);
      expect(code).toBe(0);
      expect(stdout).toBe('{\n  "slept": 0.3\n}\n');
      expect(stderr).toBe('');
    });
  });
});

describe('au list', () => {
  describe('when filtering by task', () => {
    it('should show a table of that task only', async () => {
      await au(['submit', 'factorial', 'n=3']);
      const { code, stdout } = await au(['list', '--task', 'factorial', '--status', 'completed']);
      expect(code).toBe(0);
      const lines = stdout.trim().split('\n');
      expect(lines[0]).toMatch(/^ID +TASK +STATUS +PROGRESS +AGE$/);
      expect(lines.length).toBeGreaterThan(1);
      for (const line of lines.slice(1)) expect(line).toMatch(/ factorial +completed /);
    });
  });

  describe('when there are more than --limit', () => {
    it('should print the command for the next page, which works', async () => {
      await au(['submit', 'factorial', 'n=4']);
      await au(['submit', 'factorial', 'n=5']);
      const first = await au(['list', '--limit', '1', '--json']);
      const page = JSON.parse(first.stdout) as { items: { taskId: string }[]; cursor?: string };
      expect(page.items).toHaveLength(1);
      expect(page.cursor).toBeDefined();
      const text = await au(['list', '--limit', '1']);
      expect(text.stderr).toMatch(/^more: au list --cursor \S+ --limit 1$/m);
      const second = await au(['list', '--limit', '1', '--cursor', page.cursor!, '--json']);
      const next = JSON.parse(second.stdout) as { items: { taskId: string }[] };
      expect(next.items[0]!.taskId).not.toBe(page.items[0]!.taskId);
    });
  });
});

describe('au watch', () => {
  describe('when output is not a terminal', () => {
    it('should print one JSON line per change and stop once idle', async () => {
      const id = await submitAsync('sleep', 'seconds=1');
      const { code, stdout } = await au(['watch', '--until-idle', '--interval', '0.2', '--json']);
      expect(code).toBe(0);
      const events = stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { taskId: string; status: string; progress?: unknown });
      const mine = events.filter((event) => event.taskId === id);
      expect(mine.length).toBeGreaterThanOrEqual(3);
      expect(mine.at(-1)!.status).toBe('completed');
      expect(new Set(mine.map((event) => JSON.stringify(event.progress))).size).toBeGreaterThan(2);
    });
  });
});

describe('au watch on a terminal', () => {
  it('should redraw the table from the event stream and show what ended', async () => {
    const id = await submitAsync('sleep', 'seconds=0.8');
    const io = captureIo();
    io.interactive = true;
    const code = await runCli(['watch', '--until-idle', '--interval', '0.1'], {
      io,
      env: { AU_URL: server.url },
    });
    expect(code).toBe(0);
    const screens = io.stdout.split('\u001b[2J\u001b[H').filter((screen) => screen !== '');
    expect(screens.length).toBeGreaterThanOrEqual(2);
    expect(screens[0]).toContain(id);
    expect(screens.at(-1)).toContain('recently ended');
    expect(screens.at(-1)).toMatch(/nothing in flight/);
  });
});

describe('au logs', () => {
  describe('when the computation wrote lines', () => {
    it('should print them with levels, and as JSON lines with --json', async () => {
      const id = await submitAsync('fail', 'message=broken');
      await au(['result', id, '--wait']);
      const { code, stdout } = await au(['logs', id]);
      expect(code).toBe(0);
      expect(stdout).toMatch(/ERROR failing on purpose/);
      const json = await au(['logs', id, '--json']);
      expect(JSON.parse(json.stdout.trim())).toMatchObject({ level: 'error', message: 'failing on purpose' });
    });

    it('should follow new lines until the end with --follow, exit code from how it ended', async () => {
      const id = await submitAsync('sleep', 'seconds=0.6');
      const { code, stdout } = await au(['logs', id, '--follow', '--interval', '0.1']);
      expect(code).toBe(0);
      expect(
        stdout
          .trim()
          .split('\n')
          .map((text) => text.replace(/^\S+ \w+ +/, '')),
      ).toEqual(['going to sleep {"seconds":0.6}', 'halfway', 'awake']);
    });
  });

  describe('when the id is unknown', () => {
    it('should say so and exit 3', async () => {
      const { code, stderr } = await au(['logs', 'no-such-id']);
      expect(code).toBe(3);
      expect(stderr).toContain('no-such-id');
    });
  });
});

describe('connection problems', () => {
  describe('when nothing listens at the URL', () => {
    it('should say how to fix it and exit 3', async () => {
      const closed = createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const port = (closed.address() as AddressInfo).port;
      await new Promise((resolve) => closed.close(resolve));
      const { code, stderr } = await au(['list'], { AU_URL: `http://127.0.0.1:${port}` });
      expect(code).toBe(3);
      expect(stderr).toContain(`cannot reach an au server at http://127.0.0.1:${port} (ECONNREFUSED)`);
      expect(stderr).toContain('--url / AU_URL');
    });
  });

  describe('when the URL is some other web server', () => {
    let other: Server;
    afterAll(() => new Promise((resolve) => other.close(resolve)));

    it('should say it is not an au server and exit 3', async () => {
      other = createServer((_request, response) =>
        response.writeHead(404, { 'content-type': 'text/html' }).end('<h1>Not here</h1>'),
      );
      await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
      const url = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
      const { code, stderr } = await au(['status', 'abc', '--url', url]);
      expect(code).toBe(3);
      expect(stderr).toContain(`${url} does not look like an au job server`);
    });
  });

  describe('when the URL is not a URL', () => {
    it('should exit 2', async () => {
      const { code, stderr } = await au(['list', '--url', 'localhost:8080']);
      expect(code).toBe(2);
      expect(stderr).toContain('is not an http(s) URL');
    });
  });
});

describe('API keys', () => {
  describe('when the server needs a key and none is given', () => {
    it('should say how to give one and exit 2', async () => {
      const { code, stderr } = await au(['list'], { AU_URL: securedServer.url });
      expect(code).toBe(2);
      expect(stderr).toContain('needs an API key: pass --api-key <key> or set AU_API_KEY');
    });
  });

  describe('when the key is wrong', () => {
    it('should say it was refused and exit 2', async () => {
      const { code, stderr } = await au(['list', '--api-key', 'wrong'], { AU_URL: securedServer.url });
      expect(code).toBe(2);
      expect(stderr).toContain('refused the API key');
    });
  });

  describe('when the key comes from AU_API_KEY', () => {
    it('should work', async () => {
      const { code, stdout } = await au(['submit', 'factorial', 'n=6'], {
        AU_URL: securedServer.url,
        AU_API_KEY: 'sesame',
      });
      expect(code).toBe(0);
      expect(stdout).toBe('720\n');
    });
  });
});

describe('au cleanup', () => {
  describe('when the store holds an expired computation', () => {
    let directory: string;
    afterAll(() => rm(directory, { recursive: true, force: true }));

    it('should remove it and say how many', async () => {
      directory = await mkdtemp(join(tmpdir(), 'au-cli-cleanup-'));
      const store = new FileSystemStore({ root: directory });
      const now = Date.now();
      const base = { task: 'factorial', attempt: 1, maxAttempts: 1, createdAt: now - 5000 };
      await store.create({
        ...base,
        key: 'old',
        status: 'completed',
        finishedAt: now - 4000,
        expiresAt: now - 1000,
      });
      await store.create({
        ...base,
        key: 'fresh',
        status: 'completed',
        finishedAt: now - 4000,
        expiresAt: now + 60_000,
      });
      await store.close();
      const { code, stdout } = await au(['cleanup', '--json'], { AU_STORE: `fs:${directory}` });
      expect(code).toBe(0);
      expect(JSON.parse(stdout)).toEqual({ removed: 1, store: `fs:${directory}` });
      const again = await au(['cleanup'], { AU_STORE: `fs:${directory}` });
      expect(again.stdout).toBe(`removed 0 expired computations from fs:${directory}\n`);
    });
  });

  describe('when the store is a bad value', () => {
    it('should exit 2 with the reason', async () => {
      const { code, stderr } = await au(['cleanup', '--store', 'ftp://nowhere']);
      expect(code).toBe(2);
      expect(stderr).toContain('AU_STORE');
    });
  });
});

describe('au worker', () => {
  describe('when the backend runs work inside the server', () => {
    it('should explain and exit 2', async () => {
      const { code, stderr } = await au(['worker'], { AU_BACKEND: 'threads' });
      expect(code).toBe(2);
      expect(stderr).toContain('AU_BACKEND=threads runs work inside the job server itself');
    });
  });

  describe('when only the config file names the backend', () => {
    it("should leave the check to the job server's worker, which names the file", async () => {
      const directory = await mkdtemp(join(tmpdir(), 'au-cli-worker-config-'));
      const file = join(directory, 'au.config.yaml');
      await writeFile(file, 'backend: process\n');
      try {
        const { AU_BACKEND: _backend, ...env } = withoutNodeEnv(process.env);
        const child = spawn(process.execPath, [...TS_EXEC_ARGV, CLI_MAIN, 'worker'], {
          cwd: REPO_ROOT,
          env: { ...env, AU_CONFIG: file },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let output = '';
        child.stdout.on('data', (chunk: Buffer) => {
          output += chunk.toString();
        });
        child.stderr.on('data', (chunk: Buffer) => {
          output += chunk.toString();
        });
        const [code] = await once(child, 'exit');
        expect(code).toBe(2);
        expect(output).toContain(
          `AU_BACKEND=process (set by ${file}, key "backend") runs work inside the server`,
        );
      } finally {
        await rm(directory, { recursive: true, force: true });
      }
    });
  });
});

describe('au worker with a distributed backend', () => {
  describe('when AU_BACKEND=bullmq', () => {
    it("should run the job server's worker with the same environment", async () => {
      const redisUrl = process.env.AU_REDIS_URL ?? 'redis://127.0.0.1:6379';
      if (!(await reachable(redisUrl))) {
        if (process.env.CI === 'true') throw new Error(`Redis is unreachable at ${redisUrl}`);
        console.warn(`[cli] SKIPPING the worker delegation test: Redis is unreachable at ${redisUrl}`);
        return;
      }
      const child = spawn(process.execPath, [...TS_EXEC_ARGV, CLI_MAIN, 'worker'], {
        cwd: REPO_ROOT,
        env: {
          ...withoutNodeEnv(process.env),
          AU_STORE: redisUrl,
          AU_BACKEND: 'bullmq',
          AU_LOG_LEVEL: 'info',
          AU_REDIS_URL: redisUrl,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
      });
      child.stderr.on('data', (chunk: Buffer) => {
        output += chunk.toString();
      });
      const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      // Either the worker starts (then SIGTERM stops it gracefully: exit 0), or this
      // version of the backend cannot run workers and the job server says so (exit 2).
      await expect.poll(() => output, { timeout: 30_000 }).toMatch(/au worker started|\[au\] \[job-server\]/);
      if (/au worker started/.test(output)) child.kill('SIGTERM');
      const code = await exit;
      if (/au worker started/.test(output)) expect(code).toBe(0);
      else {
        expect(code).toBe(2);
        expect(output).toContain('@au/backend-bullmq');
      }
    });
  });
});

describe('the au program', () => {
  describe('when run as a process', () => {
    it('should exit with the codes of each outcome', async () => {
      const env = { AU_URL: server.url };
      const [ok, failed, usage, missing] = await Promise.all([
        runProgram(['submit', 'factorial', 'n=5'], env),
        runProgram(['submit', 'fail'], env),
        runProgram(['submti', 'factorial'], env),
        runProgram(['status', 'missing-id'], env),
      ]);
      expect(ok).toMatchObject({ code: 0, stdout: '120\n' });
      expect(failed.code).toBe(1);
      expect(usage.code).toBe(2);
      expect(usage.stderr).toContain('Did you mean submit?');
      expect(missing.code).toBe(3);
    });
  });
});

function reachable(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port || 6379) });
    socket.setTimeout(2000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}
