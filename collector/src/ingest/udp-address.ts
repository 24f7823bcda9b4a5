/** Dual-stack sockets report IPv4 exporters as ::ffff:a.b.c.d; everything else wants a.b.c.d. */
export function normalizeAddress(a: string): string {
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}
