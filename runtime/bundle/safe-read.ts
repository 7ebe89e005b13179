import { constants, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';
import { createHash, type Hash } from 'node:crypto';

/**
 * What a path is when it is not a regular file, in words for an error message; undefined for a
 * regular file.
 */
export function notRegular(stats: Stats): string | undefined {
  if (stats.isFile()) return undefined;
  if (stats.isFIFO()) return 'a FIFO (named pipe)';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isSocket()) return 'a socket';
  if (stats.isDirectory()) return 'a directory';
  return 'not a regular file';
}

/**
 * The contents of a regular file, or undefined when `path` is missing or anything else. Opened
 * without blocking first: a plain read of a FIFO waits for a writer, forever, on one of libuv's
 * four pool threads (and four such reads stop every file operation of the process); a device
 * like /dev/zero never ends.
 */
export async function readRegularFile(path: string): Promise<Buffer | undefined> {
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    if (notRegular(await handle.stat()) !== undefined) return undefined;
    return await handle.readFile();
  } catch {
    return undefined;
  } finally {
    await handle.close().catch(() => {});
  }
}

/** Bytes read (and hashed) at a time: about a millisecond of SHA-256 here. */
const HASH_CHUNK = 1024 * 1024;

/**
 * Feeds a regular file to `hash` a chunk per read, without holding its contents (a 50 MB input
 * read whole is 50 MB more outside the heap at once, and a full garbage collection of the
 * gateway thread); false when `path` is missing or not a regular file.
 */
export async function hashRegularFile(hash: Hash, path: string): Promise<boolean> {
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch {
    return false;
  }
  try {
    const stats = await handle.stat();
    if (notRegular(stats) !== undefined) return false;
    // Small files, small buffers: a hundred inputs are hashed at once. A file is read up to the
    // size it had when opened, so a small one takes one read, not a second one to see its end
    // (a size of 0 may be a file that does not know its size: read to the end).
    const chunk = Buffer.allocUnsafe(Math.max(1, Math.min(stats.size, HASH_CHUNK)));
    for (let left = stats.size || Infinity; left > 0; ) {
      const { bytesRead } = await handle.read(chunk, 0, Math.min(chunk.byteLength, left), null);
      if (bytesRead === 0) break;
      hash.update(chunk.subarray(0, bytesRead));
      left -= bytesRead;
    }
    return true;
  } catch {
    return false;
  } finally {
    await handle.close().catch(() => {});
  }
}

/** SHA-256 of a regular file's contents, read a chunk at a time; undefined when missing or not a regular file. */
export async function fileDigest(path: string): Promise<Buffer | undefined> {
  const hash = createHash('sha256');
  return (await hashRegularFile(hash, path)) ? hash.digest() : undefined;
}
