import type { IncomingMessage } from 'node:http';
import { FngateError } from '../common/errors.js';
import { formatSize } from '../config/units.js';

/**
 * Reads a request body straight from the socket into one fresh ArrayBuffer (safe to transfer to
 * a worker), stopping as soon as it would exceed `limit`. With a Content-Length the buffer is
 * allocated once and filled in place; a chunked body is collected and copied once.
 * Resolves null for an empty body.
 */
export function readBody(incoming: IncomingMessage, limit: number, fn: string): Promise<ArrayBuffer | null> {
  const declared = incoming.headers['content-length'];
  const length = declared === undefined ? -1 : Number(declared);
  if (length > limit) {
    return Promise.reject(tooLarge(limit, fn, `Content-Length ${length}`));
  }
  if (length === 0 || incoming.readableEnded) return Promise.resolve(null);

  return new Promise((resolve, reject) => {
    const fixed = length > 0 ? new Uint8Array(length) : undefined;
    const chunks: Buffer[] = [];
    let received = 0;

    const cleanup = () => {
      incoming.off('data', onData);
      incoming.off('end', onEnd);
      incoming.off('error', onAbort);
      incoming.off('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      if (received + chunk.length > limit || (fixed !== undefined && received + chunk.length > fixed.length)) {
        cleanup();
        incoming.pause();
        reject(tooLarge(limit, fn, `more than ${formatSize(limit)} received`));
        return;
      }
      if (fixed !== undefined) fixed.set(chunk, received);
      else chunks.push(chunk);
      received += chunk.length;
    };
    const onEnd = () => {
      cleanup();
      if (received === 0) return resolve(null);
      if (fixed !== undefined) return resolve(fixed.buffer.byteLength === received ? fixed.buffer : fixed.buffer.slice(0, received));
      const body = new Uint8Array(received);
      let offset = 0;
      for (const chunk of chunks) {
        body.set(chunk, offset);
        offset += chunk.length;
      }
      resolve(body.buffer);
    };
    const onAbort = () => {
      cleanup();
      reject(new FngateError('FNGATE_CLIENT_CLOSED', 'the client disconnected while sending the body', { fn }));
    };
    const onClose = () => {
      if (!incoming.readableEnded) onAbort();
    };
    incoming.on('data', onData);
    incoming.on('end', onEnd);
    incoming.on('error', onAbort);
    incoming.on('close', onClose);
  });
}

/** 413 FNGATE_BODY_TOO_LARGE, for function `fn` when routing already found it. */
export function tooLarge(limit: number, fn: string | undefined, what: string): FngateError {
  return new FngateError('FNGATE_BODY_TOO_LARGE', `request body exceeds bodyLimit (${formatSize(limit)}): ${what}`, {
    ...(fn !== undefined && { fn }),
    // The rest of the body is never read; the connection cannot be reused.
    headers: { connection: 'close' },
  });
}
