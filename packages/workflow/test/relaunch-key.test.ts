import { isValidKey } from '@au/core';
import { describe, expect, it } from 'vitest';
import type { GraphNode } from '../src/graph-node';
import { relaunchKey } from '../src/node-computation';

const node = (definedKey: string) => ({ definedKey }) as GraphNode;

describe('relaunchKey', () => {
  describe('when the derived key is free and valid', () => {
    it('should name the node key and the computation count', () => {
      expect(relaunchKey(node('g:a'), 2, new Set(['g:a']))).toBe('g:a:relaunch-2');
      expect(relaunchKey(node('g:a'), 3, new Set())).toBe('g:a:relaunch-3');
    });
  });

  describe('when the derived key would be too long', () => {
    it('should give a generated key', () => {
      const long = `g:${'x'.repeat(196)}`;
      const key = relaunchKey(node(long), 2, new Set());
      expect(key.startsWith(long)).toBe(false);
      expect(isValidKey(key)).toBe(true);
    });
  });

  describe('when another node of the graph has the derived key', () => {
    it('should give a generated key instead', () => {
      const key = relaunchKey(node('g:a'), 2, new Set(['g:a', 'g:a:relaunch-2']));
      expect(key).not.toBe('g:a:relaunch-2');
      expect(isValidKey(key)).toBe(true);
    });
  });
});
