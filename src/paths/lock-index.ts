/**
 * Fast conflict lookup of one entry against many held `target_files` entries.
 *
 * Agrees exactly with a brute-force scan `held.find(h => targetsConflict(q, h.path))`
 * in insertion order, but answers literal queries in O(path depth + #globs):
 * - `exact`: held literal -> entry; a query's ancestors are looked up here;
 * - `under`: every proper ancestor directory of a held literal -> the first
 *   literal held below it, so a query `src` finds a held `src/a.ts` in O(1);
 * - `others`: held globs and `.`, for glob queries; for literal queries the
 *   globs are indexed by static base (`globAt`: base -> globs, `globBelow`:
 *   every proper ancestor of a base -> globs, `anywhere`: `.` and globs with
 *   no static base), since a glob can only touch paths related to its base:
 *   a literal is checked against the globs of its own ancestors, of itself
 *   and below it, not against every held glob.
 * A glob (or `.`) query looks up the held ancestors of its static bases and only
 * scans the held literals (in order) when one of them lies below a base.
 * Re-adding a held path keeps the first owner. Paths must be normalised.
 */
import { pathsOverlap, targetAnchors, targetsConflict } from './conflicts.js';
import { isGlob } from './target-path.js';

interface Entry<Owner> {
  path: string;
  owner: Owner;
  seq: number;
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const list = m.get(k);
  if (list) list.push(v);
  else m.set(k, [v]);
}

/** The entry added first of two (either may be missing). */
function earlier<O>(a: Entry<O> | undefined, b: Entry<O> | undefined): Entry<O> | undefined {
  return a === undefined || (b !== undefined && b.seq < a.seq) ? b : a;
}

export class LockIndex<Owner> {
  #exact = new Map<string, Entry<Owner>>();
  #under = new Map<string, Entry<Owner>>();
  #others: Entry<Owner>[] = [];
  #otherPaths = new Set<string>();
  #anywhere: Entry<Owner>[] = [];
  #globAt = new Map<string, Entry<Owner>[]>();
  #globBelow = new Map<string, Entry<Owner>[]>();
  #seq = 0;

  add(path: string, owner: Owner): void {
    if (path === '.' || isGlob(path)) {
      if (this.#otherPaths.has(path)) return;
      this.#otherPaths.add(path);
      const e: Entry<Owner> = { path, owner, seq: this.#seq++ };
      this.#others.push(e);
      const anchors = path === "." ? ["."] : [...new Set(targetAnchors(path))];
      if (anchors.includes(".")) this.#anywhere.push(e);
      else {
        for (const a of anchors) {
          push(this.#globAt, a, e);
          for (let i = a.indexOf("/"); i !== -1; i = a.indexOf("/", i + 1)) push(this.#globBelow, a.slice(0, i), e);
        }
      }
      return;
    }
    if (this.#exact.has(path)) return;
    const e: Entry<Owner> = { path, owner, seq: this.#seq++ };
    this.#exact.set(path, e);
    for (let i = path.indexOf('/'); i !== -1; i = path.indexOf('/', i + 1)) {
      const dir = path.slice(0, i);
      if (!this.#under.has(dir)) this.#under.set(dir, e);
    }
  }

  addAll(paths: readonly string[], owner: Owner): void {
    for (const p of paths) this.add(p, owner);
  }

  /** First held entry that conflicts with `path`, or undefined. */
  findConflict(path: string): { path: string; owner: Owner } | undefined {
    let best: Entry<Owner> | undefined;
    const consider = (list: Entry<Owner>[] | undefined) => {
      if (list === undefined) return;
      for (const e of list) if ((best === undefined || e.seq < best.seq) && targetsConflict(path, e.path)) best = e;
    };
    if (path !== '.' && !isGlob(path)) {
      consider(this.#anywhere);
      consider(this.#globAt.get(path));
      consider(this.#globBelow.get(path));
      for (let i = path.indexOf('/'); i !== -1; i = path.indexOf('/', i + 1)) consider(this.#globAt.get(path.slice(0, i)));
      best = earlier(best, this.#exact.get(path));
      best = earlier(best, this.#under.get(path));
      for (let i = path.indexOf('/'); i !== -1; i = path.indexOf('/', i + 1)) {
        best = earlier(best, this.#exact.get(path.slice(0, i)));
      }
    } else {
      best = this.#others.find((o) => targetsConflict(path, o.path));
      best = earlier(best, this.#scanLiterals(path, best?.seq ?? Infinity));
    }
    return best === undefined ? undefined : { path: best.path, owner: best.owner };
  }

  /** First conflict for any of `paths` (checked in order). */
  findFirstConflict(paths: readonly string[]): { mine: string; path: string; owner: Owner } | undefined {
    for (const mine of paths) {
      const c = this.findConflict(mine);
      if (c !== undefined) return { mine, ...c };
    }
    return undefined;
  }

  /** Number of distinct held entries. */
  get size(): number {
    return this.#exact.size + this.#others.length;
  }

  /** First held literal conflicting with a glob or `.` query, among those with seq < `before`. */
  #scanLiterals(query: string, before: number): Entry<Owner> | undefined {
    const anchors = targetAnchors(query);
    if (anchors.some((a) => a === '.' || this.#under.has(a))) {
      for (const e of this.#exact.values()) {
        if (e.seq >= before) return undefined;
        if (anchors.some((a) => a === '.' || pathsOverlap(a, e.path)) && targetsConflict(query, e.path)) return e;
      }
      return undefined;
    }
    // Nothing is held below any anchor: only held ancestors-or-equal of an anchor can conflict.
    let found: Entry<Owner> | undefined;
    for (const a of anchors) {
      for (let i = a.indexOf('/'); ; i = a.indexOf('/', i + 1)) {
        const e = this.#exact.get(i === -1 ? a : a.slice(0, i));
        if (e !== undefined && e.seq < (found?.seq ?? before) && targetsConflict(query, e.path)) found = e;
        if (i === -1) break;
      }
    }
    return found;
  }
}
