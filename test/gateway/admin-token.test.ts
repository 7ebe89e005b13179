import { describe, expect, it, vi } from 'vitest';

// Records what the admin check hands to timingSafeEqual: the only way to see, without timing
// anything, whether the work done depends on the guess.
const compared = vi.hoisted(() => [] as [number, number][]);
vi.mock('node:crypto', async (importOriginal) => {
  const crypto = await importOriginal<typeof import('node:crypto')>();
  return {
    ...crypto,
    timingSafeEqual: (a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => {
      compared.push([a.byteLength, b.byteLength]);
      return crypto.timingSafeEqual(a, b);
    },
  };
});

const { authorized } = await import('../../runtime/gateway/admin-routes.js');

describe('admin token check', () => {
  it('compares equal-length digests whatever the length of the guess, so a wrong guess learns nothing of the length', () => {
    compared.length = 0;
    expect(authorized('Bearer x', undefined, 'the-real-token-is-long')).toBe(false);
    expect(authorized(undefined, 'the-real-token-is-lonG', 'the-real-token-is-long')).toBe(false);
    expect(authorized('Bearer the-real-token-is-long', undefined, 'the-real-token-is-long')).toBe(true);
    expect(compared).toEqual([
      [32, 32],
      [32, 32],
      [32, 32],
    ]);
  });
});
