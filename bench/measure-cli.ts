// Runs the strand CLI in this process and reports its peak resident memory on stderr at exit, so
// benchmarks can measure memory of real runs without changing the CLI.
import { resourceUsage } from 'node:process';

process.on('exit', () => process.stderr.write(`STRAND_BENCH_MAXRSS_KB=${resourceUsage().maxRSS}\n`));
await import('../engine/cli/main.js');
