/**
 * The agent's BGP mode (pure). `on` (the default): margay's own speaker carries the
 * routes — node-to-node mesh, route reflectors, external peers. `off`: an external
 * speaker on the host (BIRD, a routing daemon) carries them, as with Calico's
 * networking backend set to something other than its own: the agent then opens no
 * session, listens on no BGP port, and its readiness does not wait for BGP. It still
 * does IPAM, CNI, its own blocks' blackholes (which the external speaker exports from
 * the kernel), pod routes, natOutgoing, policy, and VXLAN/IPIP routes for encapsulating
 * pools — those from the IPAM block records alone (ipamEncapRoutes in ipam-routes.ts).
 */
import type { Health } from '../health/agent-metrics.js';
import { readiness } from '../health/agent-metrics.js';

export type BgpMode = 'on' | 'off';

/** `--bgp` / MARGAY_BGP: on|off (also true|false, enabled|disabled, as operators write them); undefined → on. */
export function parseBgpMode(text: string | undefined): BgpMode | { error: string } {
  if (text === undefined || text === '') return 'on';
  const t = text.trim().toLowerCase();
  if (t === 'on' || t === 'true' || t === 'enabled') return 'on';
  if (t === 'off' || t === 'false' || t === 'disabled') return 'off';
  return { error: `--bgp must be on or off, got "${text}"` };
}

/**
 * The agent's health. With BGP on, ready waits for the BGP gate (every peer's
 * End-of-RIB, or the bound); with BGP off there is nothing to wait for.
 */
export function agentHealth(h: { mode: BgpMode; datastoreSynced: boolean; gateOpen: boolean; policySynced: boolean; routesError?: string }): Health {
  return readiness({
    datastoreSynced: h.datastoreSynced, bgpSynced: h.mode === 'off' || h.gateOpen, policySynced: h.policySynced,
    ...(h.routesError !== undefined ? { routesError: h.routesError } : {}),
  });
}
