/**
 * Test fixture (run by cli.test.ts after the build): builds a 2-node lab with a pod
 * and a long-running process, prints "ready <prefix> <pid>", then waits to be
 * killed — a run that crashes without tearing down.
 */
import { createLab } from '../../../agent/lab/lab.js';
import { podAddress } from '../../../agent/lab/plan.js';

const lab = await createLab({ nodes: 2, stateRoot: process.argv[2] });
await lab.addPod('n1', 'web', podAddress(1, 1));
const proc = await lab.startProcess(lab.node('n2').ns, ['sleep', '120']);
process.stdout.write(`ready ${lab.prefix} ${proc.pid}\n`);
setTimeout(() => process.exit(3), 60_000);
