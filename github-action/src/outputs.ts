/** Output names as action.yml declares them (a test checks the two agree). */
export const OUTPUT = {
  deploymentUrl: 'deployment-url',
  workspaceId: 'workspace-id',
  workspaceName: 'workspace-name',
  vpnConfig: 'vpn-config',
  result: 'result',
  vpnCheck: 'vpn-check',
  healthCheck: 'health-check',
  githubDeploymentId: 'github-deployment-id',
  pruned: 'pruned',
} as const;
