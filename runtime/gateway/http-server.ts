import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Gateway } from './create-gateway.js';
import { guardedResponseClass, type WriteFailure } from './guarded-response.js';
import { SendWatch, type ClosedConnection } from './send-watch.js';
import { tooLarge } from './read-body.js';

/** Idle keep-alive connections close after this long (Node's default). */
const KEEP_ALIVE_TIMEOUT_MS = 5_000;

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

/** The server could not listen: the host does not resolve or is not this machine's, no permission... */
export class ListenError extends Error {
  override readonly name: string = 'ListenError';
  readonly code: string;

  constructor(message: string, code: string) {
    super(message);
    this.code = code;
  }
}

export class PortInUseError extends ListenError {
  override readonly name = 'PortInUseError';

  constructor(message: string) {
    super(message, 'EADDRINUSE');
  }
}

const LISTEN_FAILURES: Record<string, string> = {
  ENOTFOUND: 'the host name does not resolve',
  EAI_AGAIN: 'the host name could not be resolved (DNS)',
  EADDRNOTAVAIL: 'the address is not one of this machine',
  EACCES: 'permission denied (ports below 1024 need privileges)',
};

export interface HttpServerOptions {
  readonly host: string;
  readonly port: number;
  readonly gateway: Gateway;
  /** Milliseconds a client has to send its headers (slowloris defence). */
  readonly headersTimeout: number;
  /** Milliseconds a client has to send its whole request (408 after). */
  readonly requestTimeout: number;
  /** A response Node refused to write as it was (see guarded-response.ts). */
  readonly onWriteFailure?: (failure: WriteFailure) => void;
  /** A connection whose client stopped reading its response was closed (see send-watch.ts). */
  readonly onSendClosed?: (closed: ClosedConnection) => void;
}

export async function startHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  let current = options.gateway;
  let closing: Promise<void> | undefined;
  // Limits of the current route table: a config change applies them at the next check.
  const sendWatch = new SendWatch({
    timeout: () => current.sendTimeout,
    bufferLimit: () => current.sendBufferLimit,
    onClose: options.onSendClosed ?? (() => {}),
  });
  const server = serve({
    fetch: (request, env) => {
      const bindings = env as Parameters<Gateway['fetch']>[1];
      // Once shutting down, every response tells a keep-alive client not to send another request.
      if (closing !== undefined) bindings.outgoing.setHeader('connection', 'close');
      return current.fetch(request, bindings);
    },
    hostname: options.host,
    port: options.port,
    serverOptions: {
      // A class for requests of any type; the server option is typed for its default IncomingMessage.
      ServerResponse: guardedResponseClass({
        onFailure: options.onWriteFailure ?? (() => {}),
        onUnsent: (socket, fn, request, body) => sendWatch.watch(socket, fn, request, body),
      }) as unknown as typeof ServerResponse,
      headersTimeout: options.headersTimeout,
      requestTimeout: options.requestTimeout,
      keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
      // Node checks the two timeouts above only this often (30 s by default).
      connectionsCheckingInterval: Math.min(1000, options.headersTimeout),
    },
  }) as Server;

  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      if (error.code === 'EADDRINUSE') {
        reject(new PortInUseError(`port ${options.port} on ${options.host} is already in use`));
      } else if (error.code !== undefined && Object.hasOwn(LISTEN_FAILURES, error.code)) {
        reject(new ListenError(`cannot listen on ${options.host}:${options.port}: ${LISTEN_FAILURES[error.code]} (${error.code})`, error.code));
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

  // Clients ask before sending a large body (curl: Expect: 100-continue above 1 MB). Refuse one
  // over bodyLimit then, instead of inviting the upload (Node's default) and refusing it after.
  server.on('checkContinue', (request: IncomingMessage, response: ServerResponse) => {
    const length = Number(request.headers['content-length']);
    if (length > current.bodyLimit) {
      const error = tooLarge(current.bodyLimit, undefined, `Content-Length ${length}`);
      response.writeHead(error.status, { 'content-type': 'application/json; charset=utf-8', connection: 'close' });
      response.end(JSON.stringify(error.toBody(false)));
      return;
    }
    response.writeContinue();
    server.emit('request', request, response);
  });

  const address = server.address() as AddressInfo;
  const host = address.address;
  const shownHost = host.includes(':') ? `[${host}]` : host;

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
          sendWatch.stop();
          clearInterval(sweep);
          clearTimeout(force);
          resolve();
        });
      });
      return closing;
    },
  };
}
