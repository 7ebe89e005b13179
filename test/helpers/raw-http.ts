import { request } from 'node:http';
import { connect, type Socket } from 'node:net';

export interface RawExchange {
  /** Everything the server sent before closing (or before `untilClosed` gave up). */
  readonly response: string;
  /** The status code of the first response line, or 0 when there was none. */
  readonly status: number;
  /** The server closed the connection. */
  readonly closed: boolean;
}

/**
 * Opens a TCP connection, lets `drive` write whatever it wants (partial requests, slow bytes),
 * and collects what the server answers until it closes the connection.
 */
export function rawExchange(url: string, drive: (socket: Socket) => void | Promise<void>): Promise<RawExchange> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let response = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (response += chunk));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      // The server may reset a connection it refuses to read further; what it sent still counts.
      if (error.code !== 'ECONNRESET' && error.code !== 'EPIPE') reject(error);
    });
    socket.on('close', () => {
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1] ?? 0);
      resolve({ response, status, closed: true });
    });
    socket.once('connect', () => void Promise.resolve(drive(socket)).catch(reject));
  });
}

/** One request on a new connection of its own: resolves with the status, or the connection error's code. */
export function freshRequest(url: string): Promise<number | string> {
  return new Promise((resolve) => {
    request(url, { agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    })
      .on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message))
      .end();
  });
}
