import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../runtime/index.js';
import { createProject } from '../../helpers/project.js';
import { errorOf, startRuntime } from '../../helpers/runtime.js';

const FUNCTION = { 'functions/hello.ts': 'export default () => "hello";\n' };

async function projectWith(server: string, routes = 'GET /hello') {
  return createProject({ 'config.yaml': `${server}functions:\n  hello:\n    routes: ${routes}\n`, ...FUNCTION });
}

describe('access to /_fngate/', () => {
  it('is on in dev and off in start unless configured, and says how to turn it on', async () => {
    const project = await projectWith('');
    const dev = await startRuntime({ config: project.path('config.yaml'), mode: 'dev' });
    expect((await dev.fetch('/_fngate/status')).status).toBe(200);
    expect(dev.runtime.dashboardUrl).toBe(`${dev.url}/_fngate/`);

    const start = await startRuntime({ config: project.path('config.yaml'), mode: 'start' });
    const off = await start.fetch('/_fngate/status');
    expect(off.status).toBe(404);
    expect((await errorOf(off)).message).toContain('server.admin: true');
    expect(start.runtime.dashboardUrl).toBeUndefined();
  });

  it('server.admin: true turns it on in start, server.admin: false turns it off in dev', async () => {
    const on = await projectWith('server:\n  admin: true\n');
    expect((await (await startRuntime({ config: on.path('config.yaml'), mode: 'start' })).fetch('/_fngate/metrics')).status).toBe(200);
    const off = await projectWith('server:\n  admin: false\n');
    expect((await (await startRuntime({ config: off.path('config.yaml'), mode: 'dev' })).fetch('/_fngate/status')).status).toBe(404);
  });

  it('with a token answers 401 without it, and 200 with it as a bearer header or ?token=', async () => {
    process.env.FNGATE_TEST_ADMIN_TOKEN = 's3cret-token';
    const project = await projectWith('server:\n  admin: { token: "${FNGATE_TEST_ADMIN_TOKEN}" }\n');
    const server = await startRuntime({ config: project.path('config.yaml'), mode: 'dev' });
    const missing = await server.fetch('/_fngate/status');
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="fngate"');
    expect((await errorOf(missing)).code).toBe('FNGATE_UNAUTHORIZED');
    expect((await server.fetch('/_fngate/status', { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    expect((await server.fetch('/_fngate/status', { headers: { authorization: 'Bearer s3cret-token' } })).status).toBe(200);
    expect((await server.fetch('/_fngate/status', { headers: { authorization: 'bearer s3cret-token' } })).status).toBe(200);
    expect((await server.fetch('/_fngate/metrics?token=s3cret-token')).status).toBe(200);
    // Function routes are not behind the token.
    expect((await server.fetch('/hello')).status).toBe(200);
    delete process.env.FNGATE_TEST_ADMIN_TOKEN;
  });

  it('is never served by a catch-all function route, and unknown admin paths get 404', async () => {
    const project = await projectWith('', 'ANY /*');
    const server = await startRuntime({ config: project.path('config.yaml'), mode: 'dev' });
    expect(await (await server.fetch('/anything')).text()).toBe('hello');
    expect((await server.fetch('/_fngate/status')).headers.get('content-type')).toMatch(/application\/json/);
    const unknown = await server.fetch('/_fngate/nope');
    expect(unknown.status).toBe(404);
    expect((await errorOf(unknown)).message).toContain('/_fngate/status');
    expect((await server.fetch('/_fngate/status', { method: 'POST' })).status).toBe(405);
    const redirect = await server.fetch('/_fngate', { redirect: 'manual' });
    expect(redirect.status).toBe(308);
    expect(redirect.headers.get('location')).toBe('/_fngate/');
  });

  it('rejects a config route under /_fngate/ and an invalid admin value, with line numbers', async () => {
    const project = await projectWith('server:\n  admin: maybe\n', 'GET /_fngate/mine');
    let error: unknown;
    try {
      loadConfig(project.path('config.yaml'));
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toMatch(/config\.yaml:2 server\.admin: expected true, false or \{ token: "\.\.\." \}/);
    expect(message).toMatch(/config\.yaml:5 functions\.hello\.routes: paths under \/_fngate\/ are reserved/);
  });
});
