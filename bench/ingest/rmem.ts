// `--rmem-max`: net.core.rmem_max, the kernel's cap on a socket's receive buffer, raised
// for one benchmark run and put back when the benchmark ends (normally, by error or by
// signal). The collector asks for 32 MiB and, when the kernel caps that, logs the sysctl
// a deployment should run; this runs the benchmark as such a deployment would be set up.
// Writing it needs root (in a container: a network namespace of its own, or the host's).
import { readFileSync, writeFileSync } from 'node:fs';

const PATH = '/proc/sys/net/core/rmem_max';

export function readRmemMax(): number | undefined {
  try {
    return Number(readFileSync(PATH, 'utf8').trim());
  } catch {
    return undefined;
  }
}

/** Sets rmem_max to `bytes` until this process exits; returns the value it had. */
export function raiseRmemMax(bytes: number): number {
  const before = readRmemMax();
  if (before === undefined) throw new Error(`--rmem-max: cannot read ${PATH} (Linux only)`);
  try {
    writeFileSync(PATH, String(bytes));
  } catch (err) {
    throw new Error(
      `--rmem-max: cannot write ${PATH} (${(err as Error).message}); it needs root, or leave the flag out`,
    );
  }
  process.on('exit', () => {
    try {
      writeFileSync(PATH, String(before));
    } catch {
      process.stderr.write(`could not put ${PATH} back to ${before}\n`);
    }
  });
  return before;
}
