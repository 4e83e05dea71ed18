/** The GitHub call validator itself: it must catch what the action tests rely on it to catch. */
import { describe, expect, it } from 'vitest';
import type { RecordedCall } from '../doubles/github-double.js';
import { validateGitHubCalls } from '../doubles/github-openapi.js';

const call = (overrides: Partial<RecordedCall>): RecordedCall => ({
  method: 'POST',
  path: '/repos/acme/shop/deployments',
  query: {},
  body: undefined,
  authorized: true,
  status: 403,
  response: { message: 'Resource not accessible by integration' },
  ...overrides,
});

describe('validateGitHubCalls (against @octokit/openapi api.github.com)', () => {
  it('accepts a well-formed create-deployment request', () => {
    const body = {
      ref: 'main',
      environment: 'Codesphere Preview #1',
      auto_merge: false,
      required_contexts: [],
    };
    expect(validateGitHubCalls([call({ body })])).toEqual([]);
  });

  it.each<[string, Partial<RecordedCall>, string]>([
    ['an unknown path', { path: '/repos/acme/shop/previews' }, 'no such operation'],
    [
      'a method the path lacks',
      { method: 'DELETE', path: '/repos/acme/shop/deployments' },
      'no such operation',
    ],
    ['a body of the wrong type', { body: { ref: 'main', auto_merge: 'no' } }, 'auto_merge must be boolean'],
    [
      'a deployment status outside the enum',
      { path: '/repos/acme/shop/deployments/1/statuses', body: { state: 'done' } },
      'must be equal to one of the allowed values',
    ],
    [
      'a 2xx response missing required fields',
      { status: 201, body: { ref: 'main' }, response: { id: 1 } },
      "required property 'sha'",
    ],
  ])('reports %s', (_name, overrides, problem) => {
    const problems = validateGitHubCalls([call(overrides)]);
    expect(problems).toHaveLength(1);
    expect(problems[0]?.problem).toContain(problem);
  });
});
