import { describe, expect, it } from 'vitest';
import { parseCommandLine } from '../src/cli';

type Expected =
  | { command: string; options?: Record<string, unknown>; globals?: Record<string, unknown> }
  | { exitCode: number; error?: RegExp; output?: RegExp };

const table: [string, string[], Expected][] = [
  [
    'submit with key=value pairs',
    ['submit', 'factorial', 'n=5'],
    { command: 'submit', options: { task: 'factorial', pairs: ['n=5'] } },
  ],
  [
    'submit with --input',
    ['submit', 'primes', '--input', '{"limit":10}'],
    { command: 'submit', options: { task: 'primes', input: '{"limit":10}', pairs: [] } },
  ],
  [
    'submit with --wait alone',
    ['submit', 'sleep', 'seconds=1', '--wait'],
    { command: 'submit', options: { wait: true } },
  ],
  [
    'submit with --wait seconds',
    ['submit', 'sleep', '--wait', '2.5', 'seconds=1'],
    { command: 'submit', options: { wait: 2.5, pairs: ['seconds=1'] } },
  ],
  [
    'submit with --wait=seconds',
    ['submit', 'sleep', '--wait=3'],
    { command: 'submit', options: { wait: 3 } },
  ],
  ['submit with --async', ['submit', 'sleep', '-a'], { command: 'submit', options: { async: true } }],
  [
    'submit with an idempotency key',
    ['submit', 'sleep', '--idempotency-key', 'k1'],
    { command: 'submit', options: { idempotencyKey: 'k1' } },
  ],
  [
    'submit with every launch option',
    [
      'submit',
      'sleep',
      '--key',
      'k2',
      '--priority',
      '-3',
      '--delay',
      '250',
      '--tag',
      'a',
      '-t',
      'b,c',
      '--ttl',
      '60',
      '--idempotency-window',
      '0.5',
    ],
    {
      command: 'submit',
      options: { key: 'k2', priority: -3, delay: 250, tag: ['a', 'b', 'c'], ttl: 60, idempotencyWindow: 0.5 },
    },
  ],
  ['a fractional --priority', ['submit', 'x', '--priority', '1.5'], { exitCode: 2, error: /whole number/ }],
  ['a negative --delay', ['submit', 'x', '--delay', '-1'], { exitCode: 2, error: /milliseconds/ }],
  ['a zero --ttl', ['submit', 'x', '--ttl', '0'], { exitCode: 2, error: /seconds > 0/ }],
  ['an empty --tag', ['submit', 'x', '--tag', ','], { exitCode: 2, error: /not empty/ }],
  [
    'submit with dependencies',
    ['submit', 'sleep', '--depends-on', 'a, b'],
    { command: 'submit', options: { dependsOn: ['a', 'b'] } },
  ],
  [
    'global options before the command',
    ['--url', 'http://h:1', '--api-key', 'k', 'status', 'x'],
    { command: 'status', options: { id: 'x' }, globals: { url: 'http://h:1', apiKey: 'k' } },
  ],
  [
    'global options after the command',
    ['status', 'x', '--json', '--url', 'http://h:2'],
    { command: 'status', globals: { url: 'http://h:2', json: true } },
  ],
  ['--no-color', ['list', '--no-color'], { command: 'list', globals: { color: false } }],
  ['result without --wait', ['result', 'abc'], { command: 'result', options: { id: 'abc' } }],
  ['result --wait', ['result', 'abc', '--wait'], { command: 'result', options: { id: 'abc', wait: true } }],
  [
    'result --wait 10',
    ['result', 'abc', '-w', '10'],
    { command: 'result', options: { id: 'abc', wait: 10 } },
  ],
  ['cancel', ['cancel', 'abc'], { command: 'cancel', options: { id: 'abc' } }],
  [
    'list with filters',
    ['list', '--status', 'running,Failed', '--task', 'primes', '--limit', '5'],
    { command: 'list', options: { status: ['running', 'failed'], task: 'primes', limit: 5 } },
  ],
  ['list with a cursor', ['list', '--cursor', 'c1'], { command: 'list', options: { cursor: 'c1' } }],
  [
    'watch',
    ['watch', '--until-idle', '--interval', '0.5'],
    { command: 'watch', options: { untilIdle: true, interval: 0.5 } },
  ],
  [
    'watch a tag',
    ['watch', '--tag', 'nightly', '--task', 'primes'],
    { command: 'watch', options: { tag: 'nightly', task: 'primes' } },
  ],
  ['logs', ['logs', 'abc'], { command: 'logs', options: { id: 'abc' } }],
  [
    'logs followed',
    ['logs', 'abc', '-f', '--interval', '0.2'],
    { command: 'logs', options: { id: 'abc', follow: true, interval: 0.2 } },
  ],
  ['tasks', ['tasks', '--json'], { command: 'tasks', globals: { json: true } }],
  ['worker', ['worker'], { command: 'worker' }],
  [
    'cleanup with a store',
    ['cleanup', '--store', 'fs:/tmp/x'],
    { command: 'cleanup', options: { store: 'fs:/tmp/x' } },
  ],
  ['pause a task', ['pause', 'primes'], { command: 'pause', options: { task: 'primes' } }],
  ['pause the queue', ['pause'], { command: 'pause', options: {} }],
  ['pause with two tasks', ['pause', 'a', 'b'], { exitCode: 2, error: /too many arguments/ }],
  [
    'resume a task',
    ['resume', 'primes', '--json'],
    { command: 'resume', options: { task: 'primes' }, globals: { json: true } },
  ],
  ['resume the queue', ['resume'], { command: 'resume', options: {} }],
  ['paused', ['paused'], { command: 'paused', options: {} }],
  ['retry', ['retry', 'abc'], { command: 'retry', options: { id: 'abc' } }],
  ['retry without an id', ['retry'], { exitCode: 2, error: /missing required argument 'id'/ }],
  ['redrive with no filter', ['redrive'], { command: 'redrive', options: {} }],
  [
    'redrive with filters',
    ['redrive', '--task', 'primes', '--status', 'failed,Cancelled', '--tag', 'n', '--limit', '5'],
    {
      command: 'redrive',
      options: { task: 'primes', status: ['failed', 'cancelled'], tag: 'n', limit: 5 },
    },
  ],
  [
    'redrive --since an ISO date',
    ['redrive', '--since', '2026-01-31T12:00:00Z'],
    { command: 'redrive', options: { since: '2026-01-31T12:00:00.000Z' } },
  ],
  [
    'redrive --since an age',
    ['redrive', '--since', '2h'],
    { command: 'redrive', options: { since: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) } },
  ],
  [
    'redrive with a status that is not retried',
    ['redrive', '--status', 'completed'],
    { exitCode: 2, error: /only failed and cancelled computations are retried/ },
  ],
  ['redrive with a bad --since', ['redrive', '--since', 'soon'], { exitCode: 2, error: /ISO date/ }],
  ['redrive with a bad --limit', ['redrive', '--limit', '0'], { exitCode: 2, error: /whole number ≥ 1/ }],
  ['dead-letters', ['dead-letters'], { command: 'dead-letters', options: { action: 'list' } }],
  [
    'dead-letters list with paging',
    ['dead-letters', 'list', '--task', 't', '--limit', '3', '--cursor', 'c'],
    { command: 'dead-letters', options: { action: 'list', task: 't', limit: 3, cursor: 'c' } },
  ],
  [
    'dead-letters count',
    ['dead-letters', 'count', '--tag', 'g'],
    { command: 'dead-letters', options: { action: 'count', tag: 'g' } },
  ],
  [
    'dead-letters purge --before',
    ['dead-letters', 'purge', '--before', '2026-01-01'],
    { command: 'dead-letters', options: { action: 'purge', before: '2026-01-01T00:00:00.000Z' } },
  ],
  [
    'dead-letters with a misspelt action',
    ['dead-letters', 'cuont'],
    { exitCode: 2, error: /did you mean "count"\?/ },
  ],
  ['schedules alone lists them', ['schedules'], { command: 'schedules', options: { action: 'list' } }],
  [
    'schedules list --json',
    ['schedules', 'list', '--json'],
    { command: 'schedules', options: { action: 'list' }, globals: { json: true } },
  ],
  [
    'schedules create with --every and pairs',
    ['schedules', 'create', 'factorial', 'n=5', '--every', '30s', '--id', 'fact', '--overlap', 'queue'],
    {
      command: 'schedules',
      options: {
        action: 'create',
        task: 'factorial',
        pairs: ['n=5'],
        every: 30_000,
        id: 'fact',
        overlap: 'queue',
      },
    },
  ],
  [
    'schedules create with --cron, a zone, a window, a catch-up and tags',
    [
      'schedules',
      'create',
      'report',
      '--cron',
      '0 9 * * 1',
      '--timezone',
      'Europe/Paris',
      '--start-at',
      '2026-01-01T00:00:00Z',
      '--catch-up',
      '5m',
      '--tag',
      'a',
      '--tag',
      'b',
    ],
    {
      command: 'schedules',
      options: {
        action: 'create',
        cron: '0 9 * * 1',
        timezone: 'Europe/Paris',
        startAt: Date.parse('2026-01-01T00:00:00Z'),
        catchUp: 300_000,
        tag: ['a', 'b'],
      },
    },
  ],
  [
    'schedules create --every 500ms',
    ['schedules', 'create', 't', '--every', '500ms'],
    { command: 'schedules', options: { every: 500 } },
  ],
  [
    'schedules show',
    ['schedules', 'show', 'fact'],
    { command: 'schedules', options: { action: 'show', id: 'fact' } },
  ],
  [
    'schedules pause',
    ['schedules', 'pause', 'fact'],
    { command: 'schedules', options: { action: 'pause', id: 'fact' } },
  ],
  [
    'schedules resume',
    ['schedules', 'resume', 'fact'],
    { command: 'schedules', options: { action: 'resume', id: 'fact' } },
  ],
  [
    'schedules delete',
    ['schedules', 'delete', 'fact'],
    { command: 'schedules', options: { action: 'delete', id: 'fact' } },
  ],
  [
    'schedules with a bad duration',
    ['schedules', 'create', 't', '--every', 'often'],
    { exitCode: 2, error: /duration such as 500ms/ },
  ],
  [
    'schedules with a bad date',
    ['schedules', 'create', 't', '--every', '1s', '--end-at', 'tomorrow'],
    { exitCode: 2, error: /ISO 8601/ },
  ],
  [
    'schedules with a bad overlap',
    ['schedules', 'create', 't', '--every', '1s', '--overlap', 'never'],
    { exitCode: 2, error: /Allowed choices are skip, allow, queue/ },
  ],
  [
    'schedules pause without an id',
    ['schedules', 'pause'],
    { exitCode: 2, error: /missing required argument 'id'/ },
  ],
  [
    'an unknown schedules action',
    ['schedules', 'stop', 'x'],
    { exitCode: 2, error: /unknown command 'stop'|too many arguments/ },
  ],
  ['no command', [], { exitCode: 2, error: /Usage: au/ }],
  [
    'an unknown command, with a suggestion',
    ['stauts', 'x'],
    { exitCode: 2, error: /unknown command 'stauts'[\s\S]*Did you mean status\?/ },
  ],
  ['an unknown option', ['list', '--colour'], { exitCode: 2, error: /unknown option '--colour'/ }],
  ['a missing argument', ['status'], { exitCode: 2, error: /missing required argument 'id'/ }],
  [
    'a bad status, with a suggestion',
    ['list', '--status', 'runing'],
    { exitCode: 2, error: /did you mean "running"\?/ },
  ],
  ['a bad limit', ['list', '--limit', '0'], { exitCode: 2, error: /from 1 to 1000/ }],
  ['a non-number --wait', ['result', 'x', '--wait', 'soon'], { exitCode: 2, error: /number of seconds/ }],
  ['--help', ['--help'], { exitCode: 0, output: /Examples:[\s\S]*au submit factorial n=20/ }],
  [
    'help of a command',
    ['submit', '--help'],
    { exitCode: 0, output: /Examples:[\s\S]*--async[\s\S]*Exit codes/ },
  ],
];

describe('parseCommandLine', () => {
  describe('when given each form of the command line', () => {
    it.each(table)('should parse %s', (_name, argv, expected) => {
      const parsed = parseCommandLine(argv);
      if ('exitCode' in expected) {
        expect(parsed.kind).toBe('exit');
        if (parsed.kind !== 'exit') return;
        expect(parsed.exitCode).toBe(expected.exitCode);
        if (expected.error) expect(parsed.error).toMatch(expected.error);
        if (expected.output) expect(parsed.output).toMatch(expected.output);
        return;
      }
      expect(parsed.kind).toBe('run');
      if (parsed.kind !== 'run') return;
      expect(parsed.command).toBe(expected.command);
      expect(parsed.options).toMatchObject(expected.options ?? {});
      expect(parsed.globals).toMatchObject(expected.globals ?? {});
    });
  });

  describe('when every command is asked for help', () => {
    it.each([
      'submit',
      'status',
      'result',
      'cancel',
      'list',
      'watch',
      'logs',
      'tasks',
      'worker',
      'cleanup',
      'retry',
      'redrive',
      'dead-letters',
      'schedules',
    ])('should show examples for %s', (command) => {
      const parsed = parseCommandLine([command, '--help']);
      expect(parsed).toMatchObject({ kind: 'exit', exitCode: 0 });
      expect(parsed.kind === 'exit' && parsed.output).toMatch(
        new RegExp(`Examples:\\n  \\$ [^\\n]*au ${command}`),
      );
    });
  });
});
