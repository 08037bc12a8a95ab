/**
 * Union-find (disjoint sets) over identity ids, with path compression; each set's root is its smallest id, so the
 * partition and its roots do not depend on the order unions are made in. Every union is remembered with the reason
 * and the identifier behind it, so a merge of two contacts can say why.
 *
 * @example
 * const sets = new UnionFind([1, 2, 3]);
 * sets.union(3, 2, 'shared email', 'ada@example.com');
 * sets.find(3); // 2
 */

/** Why two identities were joined: a shared email or a linked id, and which one. */
export interface Union {
  a: number;
  b: number;
  reason: string;
  identifier: string;
}

/** Disjoint sets of ids; see the module comment. */
export class UnionFind {
  private readonly parent = new Map<number, number>();
  /** Every union made, in order, including those that joined ids already in one set. */
  readonly unions: Union[] = [];

  constructor(ids: Iterable<number>) {
    for (const id of ids) this.parent.set(id, id);
  }

  /** The root of `x`'s set: its smallest id. */
  find(x: number): number {
    let r = x;
    while (this.parent.get(r) !== r) r = this.parent.get(r) as number;
    let y = x;
    while (y !== r) {
      const next = this.parent.get(y) as number;
      this.parent.set(y, r);
      y = next;
    }
    return r;
  }

  /** Joins the sets of `a` and `b`, remembering why. */
  union(a: number, b: number, reason: string, identifier: string): void {
    this.unions.push({ a, b, reason, identifier });
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra !== rb) this.parent.set(ra < rb ? rb : ra, ra < rb ? ra : rb);
  }

  /** `items` grouped by the root of their id's set, each group in the order of `items`. */
  groups<T>(items: readonly T[], idOf: (item: T) => number): Map<number, T[]> {
    const out = new Map<number, T[]>();
    for (const item of items) {
      const root = this.find(idOf(item));
      const list = out.get(root);
      if (list) list.push(item);
      else out.set(root, [item]);
    }
    return out;
  }
}
