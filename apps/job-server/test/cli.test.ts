import { describe, expect, it } from 'vitest';
import { parseArguments } from '../src/cli';
import { UsageError } from '../src/errors/usage-error';
import { readServerSettings } from '../src/server-settings';

describe('parseArguments', () => {
  it.each([
    [[], { name: 'serve' }],
    [['serve'], { name: 'serve' }],
    [['worker'], { name: 'worker' }],
    [['help'], { name: 'help' }],
    [['--help'], { name: 'help' }],
    [['-h'], { name: 'help' }],
    [['deploy'], { name: 'error', message: 'unknown command "deploy"' }],
    [
      ['serve', '--port=1'],
      { name: 'error', message: expect.stringContaining('unexpected argument "--port=1"') },
    ],
    [['worker', 'x'], { name: 'error', message: expect.stringContaining('unexpected argument "x"') }],
    [['--config', 'au.config.yaml'], { name: 'serve', configFile: 'au.config.yaml' }],
    [['serve', '--config=prod.toml'], { name: 'serve', configFile: 'prod.toml' }],
    [['--config', 'w.json', 'worker'], { name: 'worker', configFile: 'w.json' }],
    [['--config'], { name: 'error', message: '--config needs a file' }],
    [['--config='], { name: 'error', message: '--config needs a file' }],
    [['--config', 'a.json', '--config', 'b.json'], { name: 'error', message: '--config is given twice' }],
  ])('should read %j as %j', (argv, expected) => {
    expect(parseArguments(argv)).toEqual(expected);
  });
});

describe('readServerSettings', () => {
  describe('when nothing is set', () => {
    it('should listen on 127.0.0.1:8080 with the defaults', () => {
      expect(readServerSettings({})).toEqual({
        host: '127.0.0.1',
        port: 8080,
        apiKeys: [],
        defaultWait: 10,
        maxWait: 60,
        bodyLimit: 1_048_576,
        shutdownTimeout: 10_000,
        logLevel: 'info',
        sampleTasks: true,
        exposeStacks: false,
        dataDir: './.au-data',
        tracing: false,
        requestTimeout: 30_000,
        headersTimeout: 10_000,
        connectionTimeout: 120_000,
      });
    });
  });

  describe('when values are set', () => {
    it('should read them', () => {
      const settings = readServerSettings({
        AU_HOST: '0.0.0.0',
        AU_PORT: '0',
        AU_API_KEYS: ' a , b ,,',
        AU_WAIT_SECONDS: '2.5',
        AU_SAMPLE_TASKS: 'false',
        AU_EXPOSE_STACKS: 'yes',
        AU_DATA_DIR: '/var/au',
        AU_TRACING: 'on',
      });
      expect(settings).toMatchObject({
        tracing: true,
        host: '0.0.0.0',
        port: 0,
        apiKeys: ['a', 'b'],
        defaultWait: 2.5,
        sampleTasks: false,
        exposeStacks: true,
        dataDir: '/var/au',
      });
    });
  });

  describe('when a value is bad', () => {
    it.each([
      [{ AU_PORT: '80000' }, /AU_PORT must be a whole number from 0 to 65535, got "80000"/],
      [{ AU_PORT: 'http' }, /AU_PORT/],
      [{ AU_WAIT_SECONDS: '-1' }, /AU_WAIT_SECONDS/],
      [{ AU_BODY_LIMIT: '1.5' }, /AU_BODY_LIMIT must be a whole number/],
      [{ AU_LOG_LEVEL: 'loud' }, /AU_LOG_LEVEL must be one of/],
      [{ AU_SAMPLE_TASKS: 'maybe' }, /AU_SAMPLE_TASKS must be true or false/],
    ])('should refuse %j with a UsageError', (env, message) => {
      expect(() => readServerSettings(env)).toThrow(message);
      expect(() => readServerSettings(env)).toThrow(UsageError);
    });
  });
});
