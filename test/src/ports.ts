import { createServer } from 'node:net';

/**
 * Asks the kernel for a free TCP port on loopback. There is a window between closing
 * the probe socket and the server binding it; servers started with such a port are
 * retried by their starters if the bind fails.
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen({ host, port: 0, exclusive: true }, () => {
      const addr = srv.address();
      if (addr === null || typeof addr === 'string') {
        srv.close();
        reject(new Error('could not read the bound port'));
        return;
      }
      const { port } = addr;
      srv.close(() => resolve(port));
    });
  });
}
