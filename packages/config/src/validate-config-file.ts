import { ConfigError } from '@au/core';
import { closestName } from '@au/core/kit';
import type { z } from 'zod';
import { configFileSchema, KNOWN_KEYS, type ParsedConfigFile } from './config-schema';

/**
 * Checks what a config file holds; on any problem throws a `ConfigError` whose setting
 * is the file and whose message names each key at fault:
 * `[au] au.config.yaml: unknown key "backnd" (did you mean "backend"?)`.
 */
export function validateConfigFile(value: unknown, fileName: string): ParsedConfigFile {
  // An empty YAML or TOML file is no settings at all, not an error.
  const result = configFileSchema.safeParse(value ?? {});
  if (result.success) return result.data;
  throw new ConfigError({
    setting: fileName,
    message: result.error.issues.flatMap(describeIssue).join('; '),
  });
}

function describeIssue(issue: z.core.$ZodIssue): string[] {
  const path = issue.path.map(String);
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => {
      const suggestion = closestName(key, knownKeysAt(path), Math.max(2, Math.floor(key.length / 3)));
      const hint = suggestion === undefined ? '' : ` (did you mean "${joinPath([...path, suggestion])}"?)`;
      return `unknown key "${joinPath([...path, key])}"${hint}`;
    });
  }
  if (path.length === 0) {
    return [`must hold an object of settings (${lowerFirst(issue.message)})`];
  }
  return [`key "${joinPath(path)}": ${lowerFirst(issue.message)}`];
}

/** The keys the object at `path` accepts. */
function knownKeysAt(path: readonly string[]): readonly string[] {
  const last = path.at(-1);
  if (last === undefined) return KNOWN_KEYS.root;
  if (last === 'server') return KNOWN_KEYS.server;
  if (last === 'presets' && path.length === 1) return KNOWN_KEYS.presets;
  return KNOWN_KEYS.preset;
}

function joinPath(path: readonly string[]): string {
  return path.join('.');
}

function lowerFirst(message: string): string {
  return message.charAt(0).toLowerCase() + message.slice(1);
}
