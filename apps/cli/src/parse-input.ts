import { readFileSync } from 'node:fs';
import { CliError } from './errors/cli-error';
import { EXIT_CODES } from './exit-codes';

/**
 * A task's input from `--input` (JSON, or `@file.json`) and `key=value` pairs. A
 * value is read as JSON when it is JSON (`n=5` → 5, `ok=true`, `tags=["a"]`), else as
 * a string (`name=ada`); dotted keys nest (`a.b=1` → `{ a: { b: 1 } }`). Pairs are
 * merged over `--input`. Nothing at all gives `{}`.
 */
export function parseInput(input: string | undefined, pairs: readonly string[]): unknown {
  let value: unknown = {};
  if (input !== undefined) {
    const text = input.startsWith('@') ? readInputFile(input.slice(1)) : input;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new CliError({
        message: `--input is not valid JSON (${(error as Error).message}): quote it for the shell, e.g. --input '{"n": 5}', or give a file with --input @input.json`,
        exitCode: EXIT_CODES.usage,
        code: 'INVALID_JSON',
      });
    }
  }
  if (pairs.length === 0) return value;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new CliError({
      message: 'key=value pairs need --input to be a JSON object (or no --input at all)',
      exitCode: EXIT_CODES.usage,
    });
  }
  const result = value as Record<string, unknown>;
  for (const pair of pairs) {
    const equals = pair.indexOf('=');
    if (equals <= 0) {
      throw new CliError({
        message: `"${pair}" is not key=value: give the input as key=value pairs (n=5) or as JSON with --input`,
        exitCode: EXIT_CODES.usage,
      });
    }
    const path = pair.slice(0, equals).split('.');
    if (
      path.some(
        (part) => part === '' || part === '__proto__' || part === 'constructor' || part === 'prototype',
      )
    ) {
      throw new CliError({
        message: `"${pair.slice(0, equals)}" is not a usable key`,
        exitCode: EXIT_CODES.usage,
      });
    }
    let target = result;
    for (const part of path.slice(0, -1)) {
      const next = target[part];
      if (typeof next !== 'object' || next === null || Array.isArray(next)) target[part] = {};
      target = target[part] as Record<string, unknown>;
    }
    target[path[path.length - 1]!] = parseValue(pair.slice(equals + 1));
  }
  return result;
}

function parseValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function readInputFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new CliError({
      message: `cannot read the input file "${path}": ${(error as Error).message}`,
      exitCode: EXIT_CODES.usage,
      code: 'INPUT_FILE',
    });
  }
}
