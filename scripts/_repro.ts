import { createRuntime } from '../runtime/index.js';
const rt = await createRuntime({ config: 'test/fixtures/faults/config.yaml', port: 0, logger: { info() {}, warn: console.log, error: console.log } });
const get = async (p: string) => { const r = await fetch(rt.url + p); await r.text(); return r.status; };
const stats: Record<string, number> = {};
const end = Date.now() + Number(process.argv[2] ?? 5000);
await Promise.all(Array.from({ length: 8 }, async () => {
  while (Date.now() < end) {
    const mode = ['spin', 'cooperative', 'ok', 'ok'][Math.floor(Math.random() * 4)];
    const s = await get(`/timeout?mode=${mode}`);
    stats[`${mode} ${s}`] = (stats[`${mode} ${s}`] ?? 0) + 1;
  }
}));
console.log(stats);
const st = () => rt.functions().find(f => f.name === 'timeout')!;
while (st().running + st().queued > 0) await new Promise(r => setTimeout(r, 20));
console.log('idle', st());
for (let i = 0; i < 5; i++) { const t = performance.now(); const s = await get('/timeout?mode=ok'); console.log('after', s, (performance.now() - t).toFixed(0), 'ms', st().threads); }
await rt.close();
