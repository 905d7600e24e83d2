// Prints the one line CI reads, from vitest's JSON report:
//   tests: 123 passed, 0 failed, 4 skipped
// after one line per skipped test, with its reason.
// A test file that failed without a failing test (it did not load, a hook threw)
// counts as one failure. No report at all (the install or the build failed before
// vitest ran) counts as one failure too, and says why on the line before.
// Usage: node .ci/test-summary.mjs REPORT.json EXIT_STATUS
import { readFileSync } from 'node:fs';

const [reportPath, exitStatus = '0'] = process.argv.slice(2);
let report;
try {
  report = JSON.parse(readFileSync(reportPath, 'utf8'));
} catch (err) {
  console.log(`ci: no test report at ${reportPath} (exit ${exitStatus}): ${err.code ?? err.message}`);
  console.log('tests: 0 passed, 1 failed, 0 skipped');
  process.exit(0);
}
const files = report.testResults ?? [];
const brokenFiles = files.filter(
  (f) => f.status === 'failed' && !(f.assertionResults ?? []).some((a) => a.status === 'failed'),
);
for (const f of brokenFiles) console.log(`ci: ${f.name} failed outside any test: ${(f.message ?? '').split('\n')[0]}`);
// each skip with its reason: a suite's title names what it needs (test/support/root.ts), a
// test skipped at run time leaves its reason in meta.skipReason
for (const f of files) {
  for (const a of f.assertionResults ?? []) {
    if (a.status !== 'skipped' && a.status !== 'pending' && a.status !== 'todo') continue;
    const why = a.meta?.skipReason ? `: ${a.meta.skipReason}` : '';
    console.log(`ci: skipped ${f.name.replace(`${process.cwd()}/`, '')} > ${a.fullName}${why}`);
  }
}
const passed = report.numPassedTests ?? 0;
const failed = (report.numFailedTests ?? 0) + brokenFiles.length;
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
if (failed === 0 && exitStatus !== '0') console.log(`ci: vitest reported no failure but exited ${exitStatus}`);
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
