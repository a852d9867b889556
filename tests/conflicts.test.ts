/**
 * Tests for target path normalisation, the pairwise conflict rule and LockIndex.
 */
import { describe, expect, it } from 'vitest';
import { firstConflict, targetsConflict } from '../src/paths/conflicts.js';
import { LockIndex } from '../src/paths/lock-index.js';
import { isGlob, normalizeTargetPath } from '../src/paths/target-path.js';

describe('normalizeTargetPath', () => {
  it.each([
    ['./a', 'a'],
    ['a//b', 'a/b'],
    ['src/', 'src'],
    ['a/./b', 'a/b'],
    ['a/../b', 'b'],
    ['a/b/..', 'a'],
    ['.', '.'],
    ['./', '.'],
    ['a/..', '.'],
    ['src/a.ts', 'src/a.ts'],
    ['./src//**/', 'src/**'],
    ['src/**/*.ts', 'src/**/*.ts'],
    ['x/../src/{a,b}/*.ts', 'src/{a,b}/*.ts'],
    ['a\\b', 'a\\b'], // backslashes are not converted
    [' a ', ' a '], // nothing is trimmed
  ])('%j -> %j', (raw, want) => {
    expect(normalizeTargetPath(raw)).toEqual({ ok: true, path: want });
    expect(normalizeTargetPath(want)).toEqual({ ok: true, path: want }); // idempotent
  });

  it.each([
    ['/etc/x', 'absolute path not allowed: /etc/x'],
    ['/', 'absolute path not allowed: /'],
    ['C:\\x', 'absolute path not allowed: C:\\x'],
    ['C:/x', 'absolute path not allowed: C:/x'],
    ['\\\\srv\\share', 'absolute path not allowed: \\\\srv\\share'],
    ['../x', 'path escapes the project root: ../x'],
    ['a/../../x', 'path escapes the project root: a/../../x'],
    ['..', 'path escapes the project root: ..'],
    ['', 'empty path: ""'],
    ['   ', 'empty path: "   "'],
    ['a\0b', 'NUL byte not allowed: "a\\u0000b"'],
    ['src/**/../x', "'..' after a glob segment not supported: src/**/../x"],
    ['{..,a}/x', 'path escapes the project root: {..,a}/x'],
    ['{/etc,a}/x', 'absolute path not allowed: {/etc,a}/x'],
  ])('rejects %j', (raw, error) => {
    const r = normalizeTargetPath(raw);
    expect(r).toEqual({ ok: false, error });
    if (!r.ok) expect(r.error).not.toContain('\n');
  });

  it('rejects a glob with too many brace expansions', () => {
    const r = normalizeTargetPath('{1..1000}/*.ts');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(/^too many brace expansions .*: \{1\.\.1000\}\/\*\.ts$/);
  });
});

describe('isGlob', () => {
  it.each(['*.ts', 'src/**', 'a?', '[ab].ts', '{a,b}', '{1..3}', '+(a|b)', '@(x)', '!(x)', 'src/*/x'])(
    '%j is a glob',
    (p) => expect(isGlob(p)).toBe(true),
  );
  it.each(['src/a.ts', '.', 'a(b)', '{a}', '!x', '#x', 'a\\*b', 'a]'])('%j is not a glob', (p) =>
    expect(isGlob(p)).toBe(false),
  );
});

// [a, b, conflict?, rule]
const TABLE: [string, string, boolean, string][] = [
  ['.', 'a', true, '. vs literal'],
  ['.', '**/*.ts', true, '. vs glob'],
  ['.', '.', true, '. vs .'],
  ['a', 'a', true, 'equal literals'],
  ['src', 'src/a.ts', true, 'literal directory prefix'],
  ['a', 'a/b/c', true, 'literal deep prefix'],
  ['src', 'srcx/a', false, 'prefix must end at a segment'],
  ['src/a.ts', 'src/b.ts', false, 'sibling literals'],
  ['a.ts', 'a.tsx', false, 'string prefix is not a segment prefix'],
  ['src/*.ts', 'src/a.ts', true, 'literal matches glob'],
  ['src/*.ts', 'src/a.js', false, 'literal does not match glob'],
  ['src/*.ts', 'src/a/b.ts', false, '* stays in one segment'],
  ['src/*.ts', 'lib', false, 'unrelated literal'],
  ['*.md', 'docs/a.md', false, 'no basename matching'],
  ['src/**/*.ts', 'src/a', true, 'literal may be a directory holding a match (partial)'],
  ['src/**/test/*.ts', 'src/a/b', true, 'partial through **'],
  ['docs/*.md', 'docs/sub', false, 'partial match is contradicted'],
  ['**/*.css', 'src/a.ts', false, 'a literal with an extension is a file when compared with a glob'],
  ['src/**/*.css', 'src/api/login.ts', false, 'extension-typed glob vs a file of another type'],
  ['**/*.css', 'src/lib', true, 'a literal without an extension may be a directory holding a match'],
  ['**/*.css', 'Makefile', true, 'no extension: may be a directory (conservative)'],
  ['**/*.css', '.github', true, 'a dot-name may be a directory'],
  ['src/**', 'src/a.ts/x', true, 'a ** glob matches below anything under its base'],
  ['src/**', 'src', true, 'literal equal to the static base'],
  ['src/api/*.ts', 'src', true, 'literal ancestor of the static base'],
  ['src/api/*.ts', 'src/ap', false, 'static base is compared by segment'],
  ['**/*.ts', '.github/x.ts', true, 'dotfiles count'],
  ['{src,lib}/*.ts', 'lib/a.ts', true, 'braces are expanded vs literal'],
  ['{src,lib}/*.ts', 'docs/a.ts', false, 'no brace expansion matches'],
  ['{a,b}', 'b/x', true, 'brace expansions that are literals use the prefix rule'],
  ['src/**', 'docs/**', false, 'glob rule 1: unrelated static bases'],
  ['src/**', 'src/api/*.ts', true, 'glob rule 1: related static bases'],
  ['**/*.ts', '**/*.css', false, 'glob rule 2: incompatible literal suffixes'],
  ['*.ts', '*.d.ts', true, 'glob rule 2: one suffix ends with the other'],
  ['src/*/x.ts', 'src/**/y.ts', false, 'glob rule 2: literal last segments'],
  ['src/*/index.ts', 'src/**/*.ts', true, 'glob rule 2: literal last segment with compatible suffix'],
  ['a/foo*', 'a/bar*', false, 'glob rule 3: incompatible literal prefixes'],
  ['a/foo*', 'a/f*', true, 'glob rule 3: one prefix starts with the other'],
  ['a/x*.ts', 'a/y*.ts', false, 'glob rule 3 applies when rule 2 does not'],
  ['src/*.ts', 'src/**', true, 'a ** last segment defeats rules 2 and 3'],
  ['src/foo*', 'src/**', true, 'a ** last segment defeats rule 3'],
  ['**', '**/*.ts', true, 'globs with no static base'],
  ['a/*', 'a/*.ts', true, 'no literal suffix or prefix: in doubt, conflict'],
  ['{src,docs}/**', 'lib/**', false, 'braces expanded before rule 1'],
  ['{src,docs}/**', 'docs/*.md', true, 'one expansion pair conflicts'],
  ['**/*.{ts,tsx}', '**/*.css', false, 'braces expanded before rule 2'],
  ['**/*.{ts,css}', '**/*.css', true, 'braces expanded, one pair conflicts'],
];

describe('targetsConflict', () => {
  it.each(TABLE)('%j vs %j -> %s (%s)', (a, b, want) => {
    expect(targetsConflict(a, b)).toBe(want);
    expect(targetsConflict(b, a)).toBe(want);
  });
});

describe('firstConflict', () => {
  it('returns the first conflicting pair, mine outer', () => {
    expect(firstConflict(['a', 'src/x.ts'], ['b', 'src'])).toEqual({ mine: 'src/x.ts', theirs: 'src' });
    expect(firstConflict(['src/a', 'src/b'], ['src/b', 'src'])).toEqual({ mine: 'src/a', theirs: 'src' });
    expect(firstConflict(['docs/*.md'], ['src/**', 'docs/a.md'])).toEqual({ mine: 'docs/*.md', theirs: 'docs/a.md' });
  });
  it('returns undefined without a conflict', () => {
    expect(firstConflict(['a', 'src/**'], ['b', 'docs/*.md'])).toBeUndefined();
    expect(firstConflict([], ['a'])).toBeUndefined();
    expect(firstConflict(['a'], [])).toBeUndefined();
  });
});

/** Deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const POOL = [
  '.', 'src', 'src/a.ts', 'src/b.ts', 'src/api', 'src/api/x.ts', 'src/api/y.css', 'srcx/a', 'docs',
  'docs/a.md', 'docs/sub/b.md', 'lib/x.js', 'a', 'a/b/c', '.github/ci.yml', 'README.md',
  'src/**', 'src/*.ts', 'src/api/*.ts', 'docs/**', 'docs/*.md', '**/*.css', '**/*.md', '*.md',
  '{src,lib}/*.js', 'a/foo*', 'a/bar*', 'src/**/test/*.ts', 'lib/**', '{a,b}', '**/.github/*',
  'a/b', 'a/b/c/*.ts', '{x,a/b}/*.ts', 'a/b/c/d',
];

type Held = { path: string; owner: number };
const brute = (held: Held[], q: string): Held | undefined => held.find((h) => targetsConflict(q, h.path));

describe('LockIndex', () => {
  it('agrees with a brute-force targetsConflict scan on random pairs', () => {
    const rand = rng(42);
    const pick = (): string => POOL[Math.floor(rand() * POOL.length)] as string;
    let hits = 0;
    let misses = 0;
    for (let trial = 0; trial < 400; trial++) {
      const held: Held[] = [];
      const index = new LockIndex<number>();
      const n = Math.floor(rand() * 8);
      for (let i = 0; i < n; i++) {
        const h = { path: pick(), owner: i };
        held.push(h);
        index.add(h.path, h.owner);
      }
      const q = pick();
      const want = brute(held, q);
      expect(index.findConflict(q), `query ${q} vs ${JSON.stringify(held)}`).toEqual(want);
      if (want) hits++;
      else misses++;
      const qs = [pick(), pick()];
      const wantFirst = qs.map((mine) => ({ mine, hit: brute(held, mine) })).find((x) => x.hit);
      expect(index.findFirstConflict(qs)).toEqual(wantFirst && { mine: wantFirst.mine, ...wantFirst.hit });
    }
    // The pool must exercise both outcomes for the agreement to mean anything.
    expect(hits).toBeGreaterThan(50);
    expect(misses).toBeGreaterThan(50);
  });

  it.each([
    [['a', 'a/b'], 'a/b/c/*.ts', 'a'], // both held ancestors of the glob base: first added wins
    [['a/b', 'a'], 'a/b/c/*.ts', 'a/b'],
    [['x', 'a/b', 'a'], '{a/b,x}/*.ts', 'x'],
    [['src/**', 'src/a.ts'], 'src/a.ts', 'src/**'], // held glob vs held literal
    [['src/a.ts', 'src/**'], 'src/a.ts', 'src/a.ts'],
    [['src/a/x', 'src'], 'src/a', 'src/a/x'], // held below vs held above
    [['src', 'src/a/x'], 'src/a', 'src'],
    [['src/a/x', 'src'], 'src/a/*.ts', 'src'], // glob query: partial miss on src/a/x, base ancestor src
    [['src/a/x.ts', 'src'], 'src/a/*.ts', 'src/a/x.ts'],
  ])('returns the first held entry that conflicts (%j, query %j)', (held, q, want) => {
    const index = new LockIndex<number>();
    held.forEach((p, i) => {
      index.add(p, i);
    });
    expect(index.findConflict(q)).toEqual({ path: want, owner: held.indexOf(want) });
  });

  it('finds the right entry among 10,000 held literals', () => {
    const index = new LockIndex<string>();
    const held: Held[] = [];
    index.add('pkg5/**/*.md', 'glob-md');
    held.push({ path: 'pkg5/**/*.md', owner: -1 });
    for (let i = 0; i < 10_000; i++) {
      const path = `pkg${i % 100}/mod${i}/file${i}.ts`;
      index.add(path, `t${i}`);
      held.push({ path, owner: i });
    }
    index.add('pkg1/mod1/file1.ts', 'dup'); // re-adding keeps the first owner
    expect(index.size).toBe(10_001);

    const cases: [string, { path: string; owner: string } | undefined][] = [
      ['pkg42/mod4242/file4242.ts', { path: 'pkg42/mod4242/file4242.ts', owner: 't4242' }], // exact
      ['pkg1/mod1/file1.ts', { path: 'pkg1/mod1/file1.ts', owner: 't1' }],
      ['pkg3', { path: 'pkg3/mod3/file3.ts', owner: 't3' }], // held below the query, first one wins
      ['pkg3/mod9903', { path: 'pkg3/mod9903/file9903.ts', owner: 't9903' }],
      ['pkg3/mod3/file3.ts/x', { path: 'pkg3/mod3/file3.ts', owner: 't3' }], // held ancestor
      ['pkg3/mod3/other.ts', undefined], // sibling
      ['pkg3x', undefined],
      ['pkg100/mod0/file0.ts', undefined],
      ['pkg5/mod5/readme.md', { path: 'pkg5/**/*.md', owner: 'glob-md' }], // held glob
      ['pkg5', { path: 'pkg5/**/*.md', owner: 'glob-md' }], // glob added first wins over pkg5/mod5/file5.ts
      ['pkg7/**', { path: 'pkg7/mod7/file7.ts', owner: 't7' }], // glob query, scan
      ['pkg7/mod7/*.ts', { path: 'pkg7/mod7/file7.ts', owner: 't7' }],
      ['pkg7/mod7/*.css', undefined],
      // not the held glob (rule 2: file9999.ts vs .md); held .ts literals are files, so only the match counts
      ['**/file9999.ts', { path: 'pkg99/mod9999/file9999.ts', owner: 't9999' }],
      ['other/**', undefined], // nothing under or above the base
      ['pkg8/mod8/file8.ts/*.ts', { path: 'pkg8/mod8/file8.ts', owner: 't8' }], // held ancestor of a glob base
      ['.', { path: 'pkg5/**/*.md', owner: 'glob-md' }],
    ];
    for (const [q, want] of cases) {
      const got = index.findConflict(q);
      expect(got, q).toEqual(want);
      const b = brute(held, q);
      expect(got?.path, `brute ${q}`).toBe(b?.path);
    }
    expect(index.findFirstConflict(['pkg3/mod3/other.ts', 'pkg9/mod9/file9.ts/y', 'pkg3'])).toEqual({
      mine: 'pkg9/mod9/file9.ts/y',
      path: 'pkg9/mod9/file9.ts',
      owner: 't9',
    });
    expect(index.findFirstConflict(['pkg3/mod3/other.ts', 'zzz'])).toBeUndefined();
  });
});
