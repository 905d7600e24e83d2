/**
 * Chooses the core behind the runtime. Today: BasicCore (FSM per peer, originate,
 * Adj-RIB-In counts). When bgp/speaker lands, its adapter replaces this.
 */
import { BasicCore } from './basic-core.js';
import type { SpeakerConfig } from './config.js';
import type { SpeakerCore } from './runtime.js';

export function createCore(config: SpeakerConfig): SpeakerCore {
  return new BasicCore(config);
}
