import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { FollowUp } from '../../runtime/worker/continuation.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

describe('FollowUp (the worker side of a streamed body)', () => {
  it('keeps no chunk it already sent: a long stream does not grow the thread memory', async () => {
    const sent: WeakRef<Uint8Array>[] = [];
    async function* body() {
      for (let i = 0; i < 50; i++) {
        const chunk = new Uint8Array(64 * 1024);
        sent.push(new WeakRef(chunk));
        yield chunk;
      }
    }
    const followUp = new FollowUp();
    followUp.stream(body());
    followUp.replied();
    // Pull chunk by chunk, as the gateway does.
    await new Promise<void>((resolve) => {
      followUp.remote.on('message', (message: { t: string }) => {
        if (message.t === 'chunk') followUp.remote.postMessage({ t: 'pull' });
        if (message.t === 'end') resolve();
      });
      followUp.remote.postMessage({ t: 'pull' });
    });
    await followUp.finished;
    gc();
    // The FollowUp is still referenced (as while a stream runs on): what it holds stays.
    expect(followUp).toBeDefined();
    expect(sent.filter((ref) => ref.deref() !== undefined).length).toBeLessThanOrEqual(1);
    followUp.remote.close();
  });
});
