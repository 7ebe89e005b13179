import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { Continuation } from '../../runtime/worker/continuation.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

describe('Continuation (the worker side of a streamed body)', () => {
  it('keeps no chunk it already sent: a long stream does not grow the thread memory', async () => {
    const sent: WeakRef<Uint8Array>[] = [];
    async function* body() {
      for (let i = 0; i < 50; i++) {
        const chunk = new Uint8Array(64 * 1024);
        sent.push(new WeakRef(chunk));
        yield chunk;
      }
    }
    const continuation = new Continuation();
    continuation.stream(body());
    continuation.replied();
    // Pull chunk by chunk, as the gateway does.
    await new Promise<void>((resolve) => {
      continuation.remote.on('message', (message: { t: string }) => {
        if (message.t === 'chunk') continuation.remote.postMessage({ t: 'pull' });
        if (message.t === 'end') resolve();
      });
      continuation.remote.postMessage({ t: 'pull' });
    });
    await continuation.finished;
    gc();
    // The Continuation is still referenced (it is used below, as while a stream runs on).
    expect(sent.filter((ref) => ref.deref() !== undefined).length).toBeLessThanOrEqual(1);
    continuation.remote.close();
  });
});
