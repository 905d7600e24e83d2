/** Chooses the core behind the runtime: the pure speaker (bgp/speaker). */
import type { SpeakerConfig } from './config.js';
import type { SpeakerCore } from './runtime.js';
import { PureSpeakerCore, type SpeakerCoreOptions } from './speaker-core.js';

export function createCore(config: SpeakerConfig, opts: SpeakerCoreOptions = {}): SpeakerCore {
  return new PureSpeakerCore(config, opts);
}
