import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Gateway } from './create-gateway.js';

/**
 * Node's own limits against slow or abusive clients. A client gets `headersTimeout` to send its
 * headers and `requestTimeout` to send the whole request (headers and body); idle keep-alive
 * connections close after `keepAliveTimeout`.
 */
export const SERVER_TIMEOUTS = {
  headersTimeout: 20_000,
  requestTimeout: 120_000,
  keepAliveTimeout: 5_000,
} as const;

export interface HttpServer {
  /** `http://HOST:PORT` */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** Swap the route table in one assignment; requests already inside the old one finish there. */
  use(gateway: Gateway): void;
  /**
   * Stops accepting connections, lets in-flight requests finish for up to `graceMs`, then closes
   * whatever is left. Resolves when every connection is closed.
   */
  close(graceMs: number): Promise<void>;
}

export class PortInUseError extends Error {
  override readonly name = 'PortInUseError';
  readonly code = 'EADDRINUSE';
}

export async function startHttpServer(options: { host: string; port: number; gateway: Gateway }): Promise<HttpServer> {
  let current = options.gateway;
  const server = serve({
    fetch: (request, env) => current.fetch(request, env as Parameters<Gateway['fetch']>[1]),
    hostname: options.host,
    port: options.port,
    serverOptions: { ...SERVER_TIMEOUTS },
  }) as Server;

  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      if (error.code === 'EADDRINUSE') {
        reject(new PortInUseError(`port ${options.port} on ${options.host} is already in use`));
      } else {
        reject(error);
      }
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
  });

  const address = server.address() as AddressInfo;
  const host = address.address;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | undefined;

  return {
    url: `http://${shownHost}:${address.port}`,
    host,
    port: address.port,
    use(gateway) {
      current = gateway;
    },
    close(graceMs) {
      closing ??= new Promise<void>((resolve) => {
        const closed = new Promise<void>((done) => server.close(() => done()));
        // server.close() ends idle keep-alive connections once; keep ending the ones that become
        // idle as their last response goes out, and cut the rest when the grace period is over.
        const sweep = setInterval(() => server.closeIdleConnections(), 25);
        const force = setTimeout(() => server.closeAllConnections(), graceMs);
        void closed.then(() => {
          clearInterval(sweep);
          clearTimeout(force);
          resolve();
        });
      });
      return closing;
    },
  };
}
