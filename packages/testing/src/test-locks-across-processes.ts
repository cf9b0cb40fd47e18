import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { uniqueId } from './internal/unique';

/** How `testLocksAcrossProcesses` starts its contenders. */
export interface LocksAcrossProcessesOptions {
  /** A module that calls `runLockContender(locks)` from `@au/testing/lock-contender` with its provider. */
  contender: string | URL;
  /**
   * Arguments for the contender module (e.g. a prefix or schema), in `process.argv.slice(2)`;
   * a function is called when the test starts (for a schema made in `beforeAll`).
   */
  args?: string[] | (() => string[]);
  /** Node flags of the children. @default ['--conditions=@au/source', '--import', 'tsx'] for a `.ts` module, else [] */
  execArgv?: string[];
  /** How many contender processes. @default 3 */
  processes?: number;
  /** The ttl of each hold in ms: how long the others wait for the killed holder's lock. @default 3000 */
  ttl?: number;
  /** Multiplies the test's time limit. @default 1 */
  timeoutScale?: number;
}

interface Contender {
  child: ChildProcess;
  id: number;
  exited: Promise<number | string | null>;
}
type FromContender = { type: 'ready' } | { type: 'enter' | 'exit'; seq: number; token: number };

/** Holds taken after the kill before the survivors are told to stop. */
const ROUNDS_AFTER_KILL = 8;
/** The hold, counted from the first, whose holder is killed while inside. */
const VICTIM_ROUND = 4;

/**
 * The cross-process check of a `LockProvider`: `processes` child processes contend for
 * one key in a loop, reporting each entry and exit with its fencing token to this
 * process, which plays the guarded resource: it records a violation when two live
 * holders are inside at once or when a token is not higher than the last one it saw
 * (what a fenced resource would refuse). The holder of the fourth hold is SIGKILLed
 * while inside; the others must carry on once its hold expires (after `ttl`), with
 * higher tokens, for eight more holds. Then they stop and must exit cleanly.
 */
export function testLocksAcrossProcesses(name: string, options: LocksAcrossProcessesOptions): void {
  const scale = options.timeoutScale ?? 1;
  const ttl = options.ttl ?? 3000;
  const count = options.processes ?? 3;
  const file = typeof options.contender === 'string' ? options.contender : fileURLToPath(options.contender);
  const execArgv =
    options.execArgv ?? (file.endsWith('.ts') ? ['--conditions=@au/source', '--import', 'tsx'] : []);

  describe(`testLocksAcrossProcesses(${name})`, () => {
    const started: ChildProcess[] = [];
    afterEach(() => {
      for (const child of started.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
    });

    it(
      `should keep one holder at a time across ${count} processes, with increasing tokens, and carry on after a holder is killed [processes]`,
      async () => {
        const key = uniqueId('lock');
        const args = typeof options.args === 'function' ? options.args() : (options.args ?? []);
        const contenders: Contender[] = Array.from({ length: count }, (_, id) => {
          const child = fork(file, args, {
            execArgv,
            stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
          });
          started.push(child);
          const exited = new Promise<number | string | null>((resolve) =>
            child.once('exit', (code, signal) => resolve(code ?? signal)),
          );
          return { child, id, exited };
        });
        const violations: string[] = [];
        const tokens: number[] = [];
        let inside: Contender | undefined;
        let victim: { contender: Contender; token: number } | undefined;
        let afterKill = 0;
        let stopping = false;
        const ready = contenders.map(
          ({ child }) => new Promise<void>((resolve) => child.once('message', () => resolve())),
        );
        const reply = (contender: Contender, seq: number, action: 'ok' | 'hang') =>
          new Promise<void>((resolve) =>
            contender.child.send({ type: 'reply', seq, action }, () => resolve()),
          );

        for (const contender of contenders) {
          contender.child.on('message', async (message: FromContender) => {
            if (message.type === 'enter') {
              const dead = inside !== undefined && inside === victim?.contender;
              if (inside !== undefined && !dead) {
                violations.push(`process ${contender.id} entered while process ${inside.id} was inside`);
              }
              const last = tokens.at(-1) ?? 0;
              if (message.token <= last) violations.push(`token ${message.token} after token ${last}`);
              tokens.push(message.token);
              inside = contender;
              if (victim === undefined && tokens.length === VICTIM_ROUND) {
                victim = { contender, token: message.token };
                await reply(contender, message.seq, 'hang');
                contender.child.kill('SIGKILL');
                return;
              }
              if (victim !== undefined) afterKill += 1;
              await reply(contender, message.seq, 'ok');
            } else if (message.type === 'exit') {
              if (inside !== contender)
                violations.push(`process ${contender.id} left a lock it was not inside`);
              inside = undefined;
              await reply(contender, message.seq, 'ok');
              if (afterKill >= ROUNDS_AFTER_KILL && !stopping) {
                stopping = true;
                for (const other of contenders) if (other.child.connected) other.child.send({ type: 'stop' });
              }
            }
          });
        }
        for (const contender of contenders) {
          // A contender that dies on its own would leave the others looping: stop them all.
          void contender.exited.then((ending) => {
            if (stopping || contender === victim?.contender) return;
            violations.push(`process ${contender.id} ended on its own (${String(ending)})`);
            stopping = true;
            for (const other of contenders) if (other.child.connected) other.child.send({ type: 'stop' });
          });
        }
        await Promise.all(ready);
        for (const { child } of contenders) child.send({ type: 'start', key, ttl });
        const endings = await Promise.all(contenders.map((contender) => contender.exited));

        expect(violations).toEqual([]);
        expect(victim).toBeDefined();
        expect(afterKill).toBeGreaterThanOrEqual(ROUNDS_AFTER_KILL);
        // The first hold after the kill came with a higher token than the killed holder's.
        expect(tokens[VICTIM_ROUND]).toBeGreaterThan(victim!.token);
        expect(endings).toEqual(
          contenders.map((contender) => (contender === victim!.contender ? 'SIGKILL' : 0)),
        );
      },
      (60_000 + ttl * 4) * scale,
    );
  });
}
