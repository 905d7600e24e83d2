import { isRoot } from '../../agent/lab/netns.js';

/**
 * Tests that need namespaces or iptables run only as root; otherwise they skip and
 * say why (vitest prints the skip reason through describe.skipIf's title).
 */
export const needsRoot = !isRoot();
export const ROOT_SKIP_REASON = 'needs root (network namespaces, iptables); run as root or in CI';
