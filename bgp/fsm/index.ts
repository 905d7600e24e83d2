export * from './types.js';
export * from './reasons.js';
export { buildOpen, checkOpen, peerAsOf, OPEN_SENT_HOLD_MS, type OpenVerdict } from './open.js';
export { collisionSurvivor, resolveCollision, ipv4ToNumber, type CollidingConnection, type CollisionSide } from './collision.js';
export { step, newPeerFsm, messageEvent } from './step.js';
