/**
 * Each CI's documented environment for one pull request build of acme/shop (branch feat/login,
 * PR 42), as its runner sets it; the CLI's tests and docs/cli.md's examples run with these.
 */
export const SHA = '0123456789abcdef0123456789abcdef01234567';

export const CI_ENVIRONMENTS: Record<string, Record<string, string>> = {
  // https://circleci.com/docs/variables/#built-in-environment-variables
  CircleCI: {
    CI: 'true',
    CIRCLECI: 'true',
    CIRCLE_BRANCH: 'feat/login',
    CIRCLE_PULL_REQUEST: 'https://github.com/acme/shop/pull/42',
    CIRCLE_SHA1: SHA,
    CIRCLE_BUILD_NUM: '318',
    CIRCLE_BUILD_URL: 'https://circleci.com/gh/acme/shop/318',
    CIRCLE_REPOSITORY_URL: 'git@github.com:acme/shop.git',
    CIRCLE_PROJECT_USERNAME: 'acme',
    CIRCLE_PROJECT_REPONAME: 'shop',
  },
  // A multibranch pipeline's pull request job: BRANCH_NAME is PR-42, the branch is CHANGE_BRANCH.
  // https://www.jenkins.io/doc/book/pipeline/multibranch/#additional-environment-variables
  Jenkins: {
    JENKINS_URL: 'https://jenkins.example.com/',
    BUILD_NUMBER: '7',
    BUILD_URL: 'https://jenkins.example.com/job/shop/job/PR-42/7/',
    BRANCH_NAME: 'PR-42',
    CHANGE_ID: '42',
    CHANGE_BRANCH: 'feat/login',
    CHANGE_TARGET: 'main',
    CHANGE_URL: 'https://github.com/acme/shop/pull/42',
    GIT_COMMIT: SHA,
    GIT_URL: 'https://github.com/acme/shop.git',
  },
  // https://learn.microsoft.com/azure/devops/pipelines/build/variables
  'Azure Pipelines': {
    TF_BUILD: 'True',
    BUILD_BUILDURI: 'vstfs:///Build/Build/1234',
    BUILD_SOURCEBRANCH: 'refs/pull/42/merge',
    BUILD_SOURCEVERSION: SHA,
    BUILD_BUILDID: '1234',
    BUILD_REPOSITORY_URI: 'https://github.com/acme/shop',
    SYSTEM_PULLREQUEST_PULLREQUESTID: '987654',
    SYSTEM_PULLREQUEST_PULLREQUESTNUMBER: '42',
    SYSTEM_PULLREQUEST_SOURCEBRANCH: 'refs/heads/feat/login',
    SYSTEM_PULLREQUEST_TARGETBRANCH: 'refs/heads/main',
  },
  // https://buildkite.com/docs/pipelines/environment-variables
  Buildkite: {
    BUILDKITE: 'true',
    BUILDKITE_BRANCH: 'feat/login',
    BUILDKITE_COMMIT: SHA,
    BUILDKITE_PULL_REQUEST: '42',
    BUILDKITE_BUILD_NUMBER: '55',
    BUILDKITE_BUILD_URL: 'https://buildkite.com/acme/shop/builds/55',
    BUILDKITE_REPO: 'git@github.com:acme/shop.git',
  },
  // https://docs.drone.io/pipeline/environment/reference/
  Drone: {
    DRONE: 'true',
    DRONE_BRANCH: 'main',
    DRONE_SOURCE_BRANCH: 'feat/login',
    DRONE_TARGET_BRANCH: 'main',
    DRONE_COMMIT_SHA: SHA,
    DRONE_PULL_REQUEST: '42',
    DRONE_BUILD_EVENT: 'pull_request',
    DRONE_BUILD_NUMBER: '9',
    DRONE_REPO_OWNER: 'acme',
    DRONE_REPO_NAME: 'shop',
    DRONE_GIT_HTTP_URL: 'https://github.com/acme/shop.git',
  },
};
