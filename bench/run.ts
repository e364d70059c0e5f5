// `npm run bench`: every benchmark in turn (each also runs alone: tsx bench/<name>.ts).
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const BENCHES = ['decode.ts', 'interp-mips.ts'];
for (const b of BENCHES) {
  console.log(`\n== ${b}`);
  execFileSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, b)], { stdio: 'inherit' });
}
