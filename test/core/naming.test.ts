import { describe, expect, it } from 'vitest';

import {
  MAX_NAME_LENGTH,
  parseChangeNumber,
  parsePreviewName,
  repositoryShortName,
  workspaceName,
} from '../../shared/workflow/naming.js';

const branchName = (branch: string, platform: 'github' | 'gitlab' | 'bitbucket' = 'github') =>
  workspaceName({ platform, repository: 'acme/shop', branch });

describe('workspace naming', () => {
  it.each([
    ['github', 'acme/shop', 42, 'shop-#42'],
    ['gitlab', 'group/sub/shop', 7, 'shop-!7'],
    ['bitbucket', 'team/shop', 3, 'shop-pr-3'],
  ] as const)('%s %s #%d -> %s', (platform, repository, changeNumber, expected) => {
    expect(workspaceName({ platform, repository, changeNumber })).toBe(expected);
    expect(parseChangeNumber(expected, platform, repository)).toBe(changeNumber);
  });

  it('names branch previews after a readable slug of the branch and a fingerprint of 10 letters', () => {
    expect(branchName('feature/Login page!')).toMatch(/^shop-feature-login-page-[a-z]{10}$/);
    expect(branchName('release/2.0')).toMatch(/^shop-release-2\.0-[a-z]{10}$/);
    expect(branchName('修复')).toMatch(/^shop-[a-z]{10}$/);
  });

  it.each([
    ['feat/login', 'feat-login'],
    ['修复', '功能'],
    ['fix/ä', 'fix/ö'],
    ['Feat', 'feat'],
    ['pr-1', 'pr/1'],
  ])('gives %s and %s different names', (a, b) => {
    expect(branchName(a)).not.toBe(branchName(b));
    expect(branchName(a).toLowerCase()).not.toBe(branchName(b).toLowerCase());
  });

  it('gives the same branch of the same repository different names on different platforms', () => {
    expect(
      new Set([branchName('main', 'github'), branchName('main', 'gitlab'), branchName('main', 'bitbucket')])
        .size,
    ).toBe(3);
  });

  it('treats both Unicode normal forms of a branch as the same branch', () => {
    expect(branchName('fix/a\u0308')).toBe(branchName('fix/\u00e4'));
  });

  it.each(['pr-12', '12', 'pr/12', 'x-vpn-switch', 'vpn-retiring'])(
    'never reads the branch %s as a change request or an intermediate',
    (branch) => {
      for (const platform of ['github', 'gitlab', 'bitbucket'] as const)
        expect(parsePreviewName(branchName(branch, platform), platform, 'acme/shop')).toBeUndefined();
    },
  );

  it('keeps long branch names unique and within the limit, with room for the intermediate names', () => {
    const a = branchName(`feature/${'x'.repeat(80)}-a`);
    const b = branchName(`feature/${'x'.repeat(80)}-b`);
    expect(`${a}-vpn-retiring`.length).toBeLessThanOrEqual(MAX_NAME_LENGTH);
    expect(a).not.toBe(b);
    expect(branchName(`feature/${'x'.repeat(80)}-a`)).toBe(a);
  });

  it('recognises only its own platform and repository', () => {
    expect(parseChangeNumber('shop-#42', 'gitlab', 'g/shop')).toBeUndefined();
    expect(parseChangeNumber('shopping-#42', 'github', 'acme/shop')).toBeUndefined();
    expect(parseChangeNumber('shop-#42-old', 'github', 'acme/shop')).toBeUndefined();
    expect(parseChangeNumber('shop-main', 'github', 'acme/shop')).toBeUndefined();
    expect(parseChangeNumber('a.b-#1', 'github', 'acme/a.b')).toBe(1);
    expect(parseChangeNumber('axb-#1', 'github', 'acme/a.b')).toBeUndefined();
    expect(repositoryShortName('group/sub/project')).toBe('project');
  });

  it('recognises the intermediate workspaces of a switch as their preview', () => {
    expect(parsePreviewName('shop-#7-vpn-switch', 'github', 'acme/shop')).toEqual({
      changeNumber: 7,
      stage: 'switching',
      previewName: 'shop-#7',
    });
    expect(parsePreviewName('shop-pr-7-vpn-retiring', 'bitbucket', 'team/shop')).toEqual({
      changeNumber: 7,
      stage: 'retiring',
      previewName: 'shop-pr-7',
    });
    expect(parsePreviewName('shop-#7-vpn-other', 'github', 'acme/shop')).toBeUndefined();
  });
});
