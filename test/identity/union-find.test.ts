import { describe, expect, it } from 'vitest';
import { UnionFind } from '../../core/identity/union-find.js';

describe('union-find over identities', () => {
  it('gives the same sets and roots (the smallest id) whatever order the unions come in', () => {
    const joins: [number, number][] = [
      [5, 3],
      [3, 9],
      [7, 8],
      [1, 4],
      [4, 7],
    ];
    const partitions = [joins, [...joins].reverse(), joins.map(([a, b]): [number, number] => [b, a])].map((order) => {
      const sets = new UnionFind([1, 2, 3, 4, 5, 6, 7, 8, 9]);
      for (const [a, b] of order) sets.union(a, b, 'linked id', `hubspot:${a}-${b}`);
      return [...sets.groups([1, 2, 3, 4, 5, 6, 7, 8, 9], (id) => id)];
    });
    expect(partitions[0]).toEqual([
      [1, [1, 4, 7, 8]],
      [2, [2]],
      [3, [3, 5, 9]],
      [6, [6]],
    ]);
    expect(partitions[1]).toEqual(partitions[0]);
    expect(partitions[2]).toEqual(partitions[0]);
  });

  it('remembers why each union was made, in order', () => {
    const sets = new UnionFind([10, 20]);
    sets.union(20, 10, 'shared email', 'ada@example.com');
    sets.union(10, 20, 'linked id', 'salesforce:003A');
    expect(sets.unions.map((u) => u.reason)).toEqual(['shared email', 'linked id']);
    expect(sets.find(20)).toBe(10);
  });
});
