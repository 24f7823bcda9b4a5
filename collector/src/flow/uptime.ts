import type { PacketContext } from '../protocol/templates/types.js';

const U32 = 0x100000000;

/** Absolute time of a sysUptime-relative stamp (v1-v9): the export header anchors the clock. */
export function fromUptime(ctx: PacketContext, uptimeStamp: number): number | undefined {
  if (ctx.sysUptimeMs === undefined) return undefined;
  // Signed 32-bit difference: handles the uptime counter wrapping after ~49.7 days.
  // For two 32-bit stamps the difference is already within (-2^32, 2^32), where `%`
  // changes nothing; it is skipped there because on doubles V8 calls fmod for it.
  let delta = ctx.sysUptimeMs - uptimeStamp;
  if (!(delta > -U32 && delta < U32)) delta %= U32;
  if (delta >= U32 / 2) delta -= U32;
  else if (delta < -U32 / 2) delta += U32;
  return ctx.exportTimeMs - delta;
}
