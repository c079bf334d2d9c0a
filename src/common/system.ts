import { createServer } from 'node:net';

/** Whether a process of this pid exists (EPERM: it does, owned by another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Ports below every common ephemeral range (Linux 32768–60999, macOS and Windows 49152–65535). */
const QUIET_PORTS = { from: 20000, to: 32767 };

/**
 * A TCP port on 127.0.0.1 that was free a moment ago. Chosen at random below the ephemeral range
 * rather than asked of the kernel (port 0): a port the kernel hands out is the next it hands to any
 * process's outgoing connection or port-0 listener too, so between this check and its use another
 * process could take it (seen with tests running in parallel). Port 0 remains the fallback.
 */
export async function freeLoopbackPort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    try {
      return await bindLoopback(QUIET_PORTS.from + Math.floor(Math.random() * (QUIET_PORTS.to - QUIET_PORTS.from + 1)));
    } catch {
      // Taken: another draw.
    }
  }
  return bindLoopback(0);
}

/** Binds `port` on 127.0.0.1 and releases it: the port bound. */
function bindLoopback(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(port, '127.0.0.1', () => {
      const bound = (srv.address() as { port: number }).port;
      srv.close(() => resolve(bound));
    });
  });
}
