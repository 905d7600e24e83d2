#!/usr/bin/env node
// margay-cni: the CNI plugin executable (CNI spec 1.0.0). Not built yet.
process.stdout.write(JSON.stringify({ cniVersion: '1.0.0', code: 999, msg: 'margay-cni is not available in this build yet' }) + '\n');
process.exitCode = 1;
