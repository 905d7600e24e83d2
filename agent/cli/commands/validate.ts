import { notBuilt } from '../not-built.js';

export const validateCommand = notBuilt('validate', 'validate margay and NetworkPolicy manifests', `usage: margay validate FILE...

Validates manifests of margay's kinds and NetworkPolicy against their schemas.`);
