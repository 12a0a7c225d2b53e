import type { Server } from 'node:http';

/** Stops accepting, drops idle and in-flight keep-alive connections, and resolves once the server is closed. */
export function closeHttpServer(server: Server): Promise<void> {
  return new Promise<void>((r) => {
    server.close(() => r());
    server.closeAllConnections();
  });
}
