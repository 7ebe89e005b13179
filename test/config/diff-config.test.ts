import { describe, expect, it } from 'vitest';
import { diffConfig } from '../../runtime/config/diff-config.js';
import { parseConfig } from '../../runtime/config/load-config.js';
import type { ResolvedConfig } from '../../runtime/config/resolve-config.js';
import { createProject, type TempProject } from '../helpers/project.js';

let dir: TempProject;
async function configs(before: string, after: string, env: Record<string, string> = {}): Promise<[ResolvedConfig, ResolvedConfig]> {
  dir = await createProject({ 'functions/a.ts': '', 'functions/b.ts': '', 'functions/c.ts': '', 'functions/other.ts': '' });
  const file = dir.path('config.yaml');
  return [parseConfig(before, file, { cwd: dir.dir, env }), parseConfig(after, file, { cwd: dir.dir, env })];
}

describe('diffConfig', () => {
  it('says "no changes" for the same config', async () => {
    const text = 'functions:\n  a:\n    routes: GET /a\n';
    const [before, after] = await configs(text, text);
    expect(diffConfig(before, after).summary).toBe('no changes');
  });

  it('lists added, changed and removed functions in one line', async () => {
    const [before, after] = await configs(
      'functions:\n  a:\n    routes: GET /a\n  b:\n    routes: GET /b\n',
      'functions:\n  a:\n    routes: GET /a\n    maxThreads: 1\n  c:\n    routes: GET /c\n',
    );
    const changes = diffConfig(before, after);
    expect(changes.added.map((fn) => fn.name)).toEqual(['c']);
    expect(changes.removed.map((fn) => fn.name)).toEqual(['b']);
    expect(changes.changed.map((c) => c.after.name)).toEqual(['a']);
    expect(changes.summary).toMatch(/^\+c, ~a maxThreads \d+->1, -b$/);
  });

  it('needs a new version for a pool setting, the file or the env, but not for routes alone', async () => {
    const [before, after] = await configs(
      'functions:\n  a:\n    routes: GET /a\n  b:\n    routes: GET /b\n  c:\n    routes: GET /c\n',
      'functions:\n  a:\n    routes: [GET /a, GET /a2]\n  b:\n    routes: GET /b\n    file: functions/other.ts\n  c:\n    routes: GET /c\n    timeout: 2s\n',
    );
    const byName = Object.fromEntries(diffConfig(before, after).changed.map((c) => [c.after.name, c]));
    expect(byName.a).toMatchObject({ needsNewVersion: false, details: ['routes [GET /a, GET /a2]'] });
    expect(byName.b).toMatchObject({ needsNewVersion: true, details: ['file functions/b.ts->functions/other.ts'] });
    expect(byName.c).toMatchObject({ needsNewVersion: true, details: ['timeout 30 s->2 s'] });
  });

  it('names env variables that changed without showing their values', async () => {
    const [before, after] = await configs(
      'functions:\n  a:\n    routes: GET /a\n    env: { KEEP: "1", SECRET: "old-secret", GONE: "x" }\n',
      'functions:\n  a:\n    routes: GET /a\n    env: { KEEP: "1", SECRET: "new-secret", NEW: "y" }\n',
    );
    const changes = diffConfig(before, after);
    expect(changes.summary).toBe('~a env +NEW ~SECRET -GONE');
    expect(changes.summary).not.toMatch(/secret/);
  });

  it('tells server settings that apply at once from those that need a restart, and never prints a token', async () => {
    const [before, after] = await configs(
      'server:\n  port: 3000\n  bodyLimit: 1mb\n  admin: { token: one }\nfunctions:\n  a:\n    routes: GET /a\n',
      'server:\n  port: 3001\n  bodyLimit: 2mb\n  admin: { token: two }\nfunctions:\n  a:\n    routes: GET /a\n',
    );
    const changes = diffConfig(before, after);
    expect(changes.server.map((c) => [c.key, c.live])).toEqual([
      ['port', false],
      ['bodyLimit', true],
      ['admin', true],
    ]);
    expect(changes.summary).toBe('server.port 3000->3001 (restart needed), server.bodyLimit 1 MB->2 MB, server.admin token->new token');
    expect(changes.summary).not.toMatch(/one|two/);
  });
});
