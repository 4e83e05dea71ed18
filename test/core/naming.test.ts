import { describe, expect, it } from 'vitest';

import {
  MAX_NAME_LENGTH,
  parseChangeNumber,
  repositoryShortName,
  workspaceName,
} from '../../shared/naming.js';

describe('workspace naming', () => {
  it.each([
    ['github', 'acme/shop', 42, 'shop-#42'],
    ['gitlab', 'group/sub/shop', 7, 'shop-!7'],
    ['bitbucket', 'team/shop', 3, 'shop-pr-3'],
  ] as const)('%s %s #%d -> %s', (platform, repository, changeNumber, expected) => {
    expect(workspaceName({ platform, repository, changeNumber })).toBe(expected);
    expect(parseChangeNumber(expected, platform, repository)).toBe(changeNumber);
  });

  it('names branch previews after a sanitised branch', () => {
    expect(
      workspaceName({ platform: 'github', repository: 'acme/shop', branch: 'feature/Login page!' }),
    ).toBe('shop-feature-Login-page');
  });

  it('keeps long branch names unique and within the limit', () => {
    const a = workspaceName({
      platform: 'gitlab',
      repository: 'g/shop',
      branch: `feature/${'x'.repeat(80)}-a`,
    });
    const b = workspaceName({
      platform: 'gitlab',
      repository: 'g/shop',
      branch: `feature/${'x'.repeat(80)}-b`,
    });
    expect(a.length).toBeLessThanOrEqual(MAX_NAME_LENGTH);
    expect(a).not.toBe(b);
    expect(
      workspaceName({ platform: 'gitlab', repository: 'g/shop', branch: `feature/${'x'.repeat(80)}-a` }),
    ).toBe(a);
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
});
