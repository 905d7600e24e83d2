import tseslint from 'typescript-eslint';

// Dependency direction: agent → bgp, policy; bgp and policy never import agent or
// each other. The pure core additionally never reaches the outside world: no
// sockets, processes, files, netlink, Kubernetes client, logger or clock.
const shellModules = [
  'node:net', 'net', 'node:child_process', 'child_process', 'node:fs', 'fs',
  'node:fs/promises', 'fs/promises', 'node:dgram', 'node:http', 'node-netlink',
  '@kubernetes/client-node', 'pino',
];
const pure = {
  bgp: ['bgp/wire/**/*.ts', 'bgp/fsm/**/*.ts', 'bgp/rib/**/*.ts', 'bgp/speaker/**/*.ts'],
  policy: ['policy/model/**/*.ts', 'policy/resolve/**/*.ts', 'policy/ir/**/*.ts',
    'policy/evaluate/**/*.ts', 'policy/render/**/*.ts', 'policy/compile.ts', 'policy/incremental.ts'],
  agent: ['agent/dataplane/netlink/**/*.ts', 'agent/dataplane/plan/**/*.ts', 'agent/node-config/**/*.ts',
    'agent/status/**/*.ts', 'agent/ipam/{cidr,selector,pool,block,store,types,errors,allocator,gc}.ts',
    'agent/cni/{errors,protocol,wire,names,handler}.ts', 'agent/lab/topology/{manifests,bird-config}.ts'],
};
const forbidFolders = (folders, withShell) => ({
  'no-restricted-imports': ['error', {
    paths: withShell ? shellModules : [],
    patterns: folders.map((f) => `**/${f}/**`),
  }],
});
const noClock = { 'no-restricted-globals': ['error', { name: 'Date', message: 'pure core: time arrives as an argument' }] };

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'charts/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  { files: ['bgp/**/*.ts'], rules: forbidFolders(['agent', 'policy'], false) },
  { files: ['policy/**/*.ts'], rules: forbidFolders(['agent', 'bgp'], false) },
  { files: pure.bgp, rules: { ...forbidFolders(['agent', 'policy'], true), ...noClock, '@typescript-eslint/no-explicit-any': 'error' } },
  { files: pure.policy, rules: { ...forbidFolders(['agent', 'bgp'], true), ...noClock, '@typescript-eslint/no-explicit-any': 'error' } },
  // The agent's pure parts may use bgp/ and policy/ (agent → bgp, policy) but not the outside world.
  { files: pure.agent, rules: { ...forbidFolders([], true), ...noClock, '@typescript-eslint/no-explicit-any': 'error' } },
);
