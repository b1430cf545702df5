// What the local cloud servers share: an HTTP server on a free loopback port, its address, start and stop,
// and reading a request body.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export abstract class LocalHttpServer {
  private server: Server | undefined;

  protected abstract handle(req: IncomingMessage, res: ServerResponse): Promise<void>;

  get endpoint(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        // A client that goes away mid-request (a host killed by a preemption test) ends that request only,
        // as on a real server; any other failure is a bug in the server and stays loud.
        if ((error as NodeJS.ErrnoException).code === 'ECONNRESET' || req.destroyed) return;
        throw error;
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
