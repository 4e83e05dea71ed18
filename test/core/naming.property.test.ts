/**
 * Properties of the preview naming scheme (shared/workflow/naming.ts) over random refs: Unicode (both
 * normal forms), slashes, dots, case, digits that look like change numbers, lengths near the
 * limit. Fixed seed and bounded runs, so `npm test` is deterministic.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import type { Platform } from '../../shared/request/job-input.js';
import {
  MAX_NAME_LENGTH,
  parseChangeNumber,
  parsePreviewName,
  repositoryShortName,
  retiringName,
  switchingName,
  workspaceName,
  type NameSource,
} from '../../shared/workflow/naming.js';

const SEED = 20261129;
const RUNS = { seed: SEED, numRuns: 300 };

const platforms: Platform[] = ['github', 'gitlab', 'bitbucket'];
const platform = fc.constantFrom(...platforms);

// Small alphabets, so slugs coincide often and only the fingerprint can keep names apart.
const branchChars = fc.constantFrom(
  'a',
  'b',
  'F',
  'f',
  '0',
  '7',
  '/',
  '-',
  '.',
  '_',
  ' ',
  'ä',
  'ö',
  'a\u0308',
  'é',
  '修',
  '复',
  '功',
  '能',
  'p',
  'r',
  '#',
  '!',
  '@',
  '😀',
  'ß',
  'İ',
);
const branch = fc.oneof(
  fc.array(branchChars, { minLength: 1, maxLength: 12 }).map((c) => c.join('')),
  // Lengths around the limit, and beyond git's practical ones.
  fc.array(branchChars, { minLength: 40, maxLength: 120 }).map((c) => c.join('')),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }),
  // Branches built to look like other kinds of names.
  fc.nat({ max: 99_999 }).map((n) => `pr-${n}`),
  fc.nat({ max: 99_999 }).map((n) => `${n}`),
  fc.nat({ max: 999 }).map((n) => `pr/${n}-vpn-switch`),
  fc.constantFrom('vpn-retiring', 'x-vpn-switch', '#7', '!7', 'Feat', 'feat', 'FEAT'),
);
const repoName = fc.oneof(
  fc.constantFrom('shop', 'Shop', 'shop-pr', 'shop-api', 'a.b', 'x'.repeat(60), 'shop-feat'),
  fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,70}$/),
);
const repository = fc
  .tuple(fc.constantFrom('acme', 'other', 'group/sub'), repoName)
  .map(([owner, repo]) => `${owner}/${repo}`);
const changeNumber = fc.integer({ min: 1, max: 2 ** 31 });

const branchSource = fc.record({ platform, repository, branch });
const changeSource = fc.record({ platform, repository, changeNumber });
const anySource: fc.Arbitrary<NameSource> = fc.oneof(branchSource, changeSource);

// A tiny alphabet: two such branches often differ only in what a slug drops.
const tinyBranch = fc
  .array(fc.constantFrom('a', 'A', '/', '-', '.', 'ä', 'a\u0308', 'ö', '修', '1'), {
    minLength: 1,
    maxLength: 4,
  })
  .map((c) => c.join(''));

/** Pairs of previews, biased toward the ones a lossy scheme would merge. */
const previewPair: fc.Arbitrary<[NameSource, NameSource]> = fc.oneof(
  fc.tuple(anySource, anySource),
  // Same repository and platform, branches differing in a slash, an accent, a case.
  fc.tuple(platform, repository, tinyBranch, tinyBranch).map(([p, r, x, y]): [NameSource, NameSource] => [
    { platform: p, repository: r, branch: x },
    { platform: p, repository: r, branch: y },
  ]),
  // A branch against a change request of the same repository, on any pair of platforms.
  fc
    .tuple(platform, platform, repository, fc.oneof(tinyBranch, branch), changeNumber)
    .map(([p, q, r, b, n]): [NameSource, NameSource] => [
      { platform: p, repository: r, branch: b },
      { platform: q, repository: r, changeNumber: n },
    ]),
  // The same branch on two platforms (a mirrored repository deploying to one team).
  fc.tuple(platform, platform, repository, tinyBranch).map(([p, q, r, b]): [NameSource, NameSource] => [
    { platform: p, repository: r, branch: b },
    { platform: q, repository: r, branch: b },
  ]),
  // Repository names that are prefixes of each other: shop + "api-x" against shop-api + "x",
  // and shop + "api-pr-<n>" against pull request <n> of shop-api.
  fc.tuple(platform, platform, tinyBranch, changeNumber).chain(([p, q, x, n]) =>
    fc.constantFrom<[NameSource, NameSource]>(
      [
        { platform: p, repository: 'acme/shop', branch: `api-${x}` },
        { platform: q, repository: 'acme/shop-api', branch: x },
      ],
      [
        { platform: p, repository: 'acme/shop', branch: `api-pr-${n}` },
        { platform: q, repository: 'acme/shop-api', changeNumber: n },
      ],
      [
        { platform: p, repository: 'acme/shop', branch: `${n}-vpn-switch` },
        { platform: 'github', repository: 'acme/shop', changeNumber: n },
      ],
    ),
  ),
);

/** What must keep two previews apart (the documented exception: CRs of same-named repositories). */
function identity(s: NameSource): string {
  if (s.changeNumber !== undefined)
    return `cr\n${s.platform}\n${repositoryShortName(s.repository).toLowerCase()}\n${s.changeNumber}`;
  return `branch\n${s.platform}\n${s.repository.toLowerCase()}\n${(s.branch ?? '').normalize('NFC')}`;
}

/** Every name a source's previews can carry. */
const allNames = (s: NameSource) => {
  const name = workspaceName(s);
  return [name, switchingName(name), retiringName(name)];
};

const CHANGE_REQUEST_NAME = /-(#|!|pr-)\d+$/;
const INTERMEDIATE_NAME = /-vpn-(switch|retiring)$/;

describe('workspace naming properties', () => {
  it('is one-to-one: different previews never share any of their names (case-insensitively)', () => {
    fc.assert(
      fc.property(previewPair, ([a, b]) => {
        fc.pre(identity(a) !== identity(b));
        const namesA = allNames(a).map((n) => n.toLowerCase());
        for (const n of allNames(b)) expect(namesA).not.toContain(n.toLowerCase());
      }),
      { ...RUNS, numRuns: 1000 },
    );
  });

  it('is one-to-one over branches that differ only by slug-equivalent characters', () => {
    const similar = fc.record({
      platform,
      repository,
      stem: fc.constantFrom('feat', 'fix', 'Feat', ''),
      a: fc.constantFrom(
        '/',
        '-',
        '.',
        '_',
        ' ',
        '//',
        '/ä',
        '/ö',
        '/a\u0308',
        '修复',
        '功能',
        '/Login',
        '/login',
      ),
      b: fc.constantFrom(
        '/',
        '-',
        '.',
        '_',
        ' ',
        '//',
        '/ä',
        '/ö',
        '/a\u0308',
        '修复',
        '功能',
        '/Login',
        '/login',
      ),
    });
    fc.assert(
      fc.property(similar, ({ platform: p, repository: r, stem, a, b }) => {
        const left = `${stem}${a}x`;
        const right = `${stem}${b}x`;
        fc.pre(left.normalize('NFC') !== right.normalize('NFC'));
        expect(workspaceName({ platform: p, repository: r, branch: left })).not.toBe(
          workspaceName({ platform: p, repository: r, branch: right }),
        );
      }),
      RUNS,
    );
  });

  it('is stable: the same ref always gives the same name, whatever its Unicode normal form', () => {
    fc.assert(
      fc.property(branchSource, (s) => {
        const name = workspaceName(s);
        expect(workspaceName({ ...s })).toBe(name);
        expect(workspaceName({ ...s, branch: s.branch.normalize('NFD') })).toBe(name);
      }),
      RUNS,
    );
  });

  it('never gives a branch a change-request name or an intermediate name, on any platform', () => {
    fc.assert(
      fc.property(branchSource, repository, (s, otherRepository) => {
        const name = workspaceName(s);
        expect(name).not.toMatch(CHANGE_REQUEST_NAME);
        expect(name).not.toMatch(INTERMEDIATE_NAME);
        for (const p of platforms)
          for (const r of [s.repository, otherRepository]) {
            expect(parseChangeNumber(name, p, r)).toBeUndefined();
            expect(parsePreviewName(name, p, r)).toBeUndefined();
            expect(parsePreviewName(switchingName(name), p, r)).toBeUndefined();
            expect(parsePreviewName(retiringName(name), p, r)).toBeUndefined();
          }
      }),
      RUNS,
    );
  });

  it('reads change-request names and their intermediates back, and nothing else', () => {
    fc.assert(
      fc.property(changeSource, (s) => {
        const name = workspaceName(s);
        expect(name).toMatch(CHANGE_REQUEST_NAME);
        expect(parseChangeNumber(name, s.platform, s.repository)).toBe(s.changeNumber);
        expect(parsePreviewName(name, s.platform, s.repository)).toEqual({
          changeNumber: s.changeNumber,
          stage: 'preview',
          previewName: name,
        });
        expect(parsePreviewName(switchingName(name), s.platform, s.repository)?.stage).toBe('switching');
        expect(parsePreviewName(retiringName(name), s.platform, s.repository)?.stage).toBe('retiring');
        for (const p of platforms.filter((x) => x !== s.platform))
          expect(parsePreviewName(name, p, s.repository)).toBeUndefined();
        expect(parsePreviewName(`${name}-old`, s.platform, s.repository)).toBeUndefined();
      }),
      RUNS,
    );
  });

  it('recognises a name only if this scheme produces it exactly (no other spelling of a number)', () => {
    // Hand-made look-alikes (`shop-#07`, `shop-!007-vpn-switch`) are not ours: prune must never
    // take them for a change request's preview.
    const sigil: Record<Platform, string> = { github: '-#', gitlab: '-!', bitbucket: '-pr-' };
    const digits = fc.array(fc.constantFrom('0', '1', '7', '9'), { minLength: 1, maxLength: 18 });
    const suffix = fc.constantFrom('', '-vpn-switch', '-vpn-retiring');
    fc.assert(
      fc.property(platform, digits, suffix, (p, d, tail) => {
        const name = `shop${sigil[p]}${d.join('')}${tail}`;
        const parsed = parsePreviewName(name, p, 'acme/shop');
        if (parsed === undefined) return;
        const canonical = workspaceName({
          platform: p,
          repository: 'acme/shop',
          changeNumber: parsed.changeNumber,
        });
        const stageName = {
          preview: canonical,
          switching: switchingName(canonical),
          retiring: retiringName(canonical),
        };
        expect(stageName[parsed.stage]).toBe(name);
      }),
      RUNS,
    );
  });

  it('keeps a branch preview and both of its intermediate names within the length limit and charset', () => {
    fc.assert(
      fc.property(branchSource, (s) => {
        for (const name of allNames(s)) {
          expect(name.length).toBeLessThanOrEqual(MAX_NAME_LENGTH);
          expect(name).toMatch(/^[A-Za-z0-9._-]+$/);
          expect(name).not.toMatch(/^[-.]/);
        }
      }),
      RUNS,
    );
  });
});
