export * from './path.js';
export * from './adj-rib-in.js';
export * from './best-path.js';
export * from './table.js';
export * from './import.js';
export * from './export.js';
export * from './adj-rib-out.js';
export * from './policy.js';
