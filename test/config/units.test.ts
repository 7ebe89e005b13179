import { describe, expect, it } from 'vitest';
import { formatDuration, formatSize, parseDuration, parseSize } from '../../runtime/config/units.js';

describe('units', () => {
  it.each([
    [250, 250],
    ['250ms', 250],
    ['1.5s', 1500],
    [' 30 S ', 30_000],
    ['2m', 120_000],
    ['1h', 3_600_000],
    [12.6, 13],
  ])('parses the duration %j as %d ms', (value, ms) => {
    expect(parseDuration(value)).toBe(ms);
  });

  it.each([
    [100, 100],
    ['100b', 100],
    ['512kb', 512 * 1024],
    ['10MB', 10 * 1024 ** 2],
    ['1.5gb', 1.5 * 1024 ** 3],
  ])('parses the size %j as %d bytes', (value, bytes) => {
    expect(parseSize(value)).toBe(bytes);
  });

  it('throws for text that is neither', () => {
    expect(() => parseDuration('soon')).toThrow(/not a duration/);
    expect(() => parseSize('10 megs')).toThrow(/not a size/);
  });

  it.each([
    [10 * 1024 ** 2, '10 MB'],
    [1536 * 1024, '1.5 MB'],
    [512 * 1024, '512 KB'],
    [300, '300 B'],
    [1536, '1.5 KB'],
  ])('formats %d bytes as %s', (bytes, text) => {
    expect(formatSize(bytes)).toBe(text);
  });

  it.each([
    [250, '250 ms'],
    [999, '999 ms'],
    [30_000, '30 s'],
    [1500, '1500 ms'],
    [120_000, '2 min'],
    [90_000, '90 s'],
  ])('formats %d ms as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
