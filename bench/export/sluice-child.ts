// One Sluice export run, in a process of its own: reads the capture given as argv[2],
// exports NetFlow v9 to 127.0.0.1:argv[3], and prints one JSON line with its CPU time
// (process.cpuUsage, every thread, from just before the first read to the last datagram
// sent: start-up and module loading left out) and the exporter's statistics.
import { SoftwareExporter } from '../../collector/src/exporter/exporter.js';
import { captureFile, feedCapture } from '../../collector/src/exporter/source.js';

const [file, port] = process.argv.slice(2);
if (!file || !port) throw new Error('usage: sluice-child.ts FILE PORT');
const exporter = new SoftwareExporter({
  targets: [{ host: '127.0.0.1', port: Number(port), version: 9 }],
  // The same cache bound softflowd gets (-m 65536).
  cache: { maxFlows: 65_536 },
});
const wall0 = performance.now();
const cpu0 = process.cpuUsage();
const end = await feedCapture(exporter, captureFile(file));
await exporter.finish();
const cpu = process.cpuUsage(cpu0);
const wallMs = performance.now() - wall0;
if (end.error) throw new Error(`${file}: ${end.error.message}`);
const s = exporter.stats();
const d = s.destinations[0];
process.stdout.write(
  `${JSON.stringify({
    cpuMs: (cpu.user + cpu.system) / 1000,
    wallMs,
    packets: s.packets,
    flowsExported: s.flowsExported,
    datagrams: d?.datagrams ?? 0,
    exportBytes: d?.bytes ?? 0,
    errors: d?.errors ?? 0,
  })}\n`,
);
