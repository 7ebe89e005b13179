// Compiles runtime/*.ts to dist/ with esbuild: one JS file per module (the package entries
// `fngate` and `fngate/testing`, and the worker-side files that function bundles include), plus
// dist/cli.bundle.js, the CLI with its dependencies in one file: loading one file instead of
// hundreds of small modules (zod, yaml, hono) makes `fngate start` about 45 ms faster here.
// esbuild and piscina stay outside it (one starts a native binary, the other resolves its worker
// file next to itself).
//
// `node scripts/build-runtime.js` (npm's prepare and prepack) builds dist/ from scratch, with the
// type declarations of the public API (tsc); `--pack` leaves out source maps, which would point
// at sources the package does not ship. In a clone, the `fngate` bin calls ensureRuntimeBuilt()
// first, so an edit to runtime/ never leaves a stale CLI behind.
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { copyFile, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = fileURLToPath(new URL('..', import.meta.url));
const sourceDir = join(root, 'runtime');
const outDir = join(root, 'dist');
const stampFile = join(outDir, '.build-stamp');
/** Files the runtime loads as they are: the plain-JS worker entry, the dashboard page. */
const COPIED = /\.(mjs|html)$/;

/**
 * Every file under `dir`. Synchronous, as is the fingerprint: it runs before the CLI exists, on
 * every `fngate` start in a clone, and a hundred stat calls in a row cost 2 ms where awaiting
 * each cost 35-45 ms.
 */
function listFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? listFiles(join(dir, entry.name)) : [join(dir, entry.name)]));
}

/**
 * Every source's path, size and modification time, hashed: the build's fingerprint. (The newest
 * time alone would miss a file replaced by an older copy, e.g. by git checkout.)
 */
function sourceFingerprint(files) {
  const stats = files.map((file) => {
    const { size, mtimeMs } = statSync(file);
    return `${relative(sourceDir, file)}:${size}:${mtimeMs}`;
  });
  return createHash('sha256').update(stats.sort().join('\n')).digest('hex');
}

/** Writes via a temporary file and rename, so concurrent builds never leave a half-written module. */
async function writeAtomic(file, contents) {
  await mkdir(dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, contents);
  await rename(temp, file);
}

/** Compiles the JavaScript of dist/ (never the type declarations). */
async function compile(files, { sourcemap }) {
  const { build } = await import('esbuild');
  const modules = await build({
    entryPoints: files.filter((file) => file.endsWith('.ts')),
    outdir: outDir,
    outbase: sourceDir,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap,
    bundle: false,
    write: false,
    logLevel: 'warning',
  });
  await Promise.all(modules.outputFiles.map((file) => writeAtomic(file.path, file.contents)));
  const cli = await build({
    entryPoints: [join(sourceDir, 'cli.ts')],
    outfile: join(outDir, 'cli.bundle.js'),
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap,
    external: ['esbuild', 'piscina'],
    // runtime/common/runtime-files.ts finds the worker entry and the dashboard relative to the
    // runtime's root; inlined here, its import.meta.url is this bundle's, which sits in that root.
    define: { FNGATE_RUNTIME_ROOT: JSON.stringify('./') },
    // Bundled CommonJS dependencies call require(); ESM output has none.
    banner: { js: "import { createRequire as __fngateCreateRequire } from 'node:module'; const require = __fngateCreateRequire(import.meta.url);" },
    write: false,
    logLevel: 'warning',
  });
  await Promise.all(cli.outputFiles.map((file) => writeAtomic(file.path, file.contents)));
  await Promise.all(
    files
      .filter((file) => COPIED.test(file))
      .map(async (file) => {
        const target = join(outDir, relative(sourceDir, file));
        await mkdir(dirname(target), { recursive: true });
        await copyFile(file, `${target}.${process.pid}.tmp`);
        await rename(`${target}.${process.pid}.tmp`, target);
      }),
  );
}

/** The type declarations of the public entries (`fngate`, `fngate/testing`), from tsc. */
async function declarations() {
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  await promisify(execFile)(process.execPath, [tsc, '-p', join(root, 'scripts', 'tsconfig.types.json')], { cwd: root });
}

function readStamp() {
  try {
    return readFileSync(stampFile, 'utf8');
  } catch {
    return '';
  }
}

/** In a clone: recompiles dist/ when runtime/ changed since the last build. Installed packages have no sources and skip this. */
export async function ensureRuntimeBuilt() {
  let files;
  try {
    files = listFiles(sourceDir);
  } catch {
    return; // an installed package ships dist/ without sources
  }
  const fingerprint = sourceFingerprint(files);
  if (readStamp() === fingerprint) return;
  await compile(files, { sourcemap: 'linked' });
  await writeAtomic(stampFile, fingerprint);
}

/** dist/ from scratch: JavaScript, declarations, and the stamp that tells ensureRuntimeBuilt it is current. */
export async function buildRuntime({ pack = false } = {}) {
  const files = listFiles(sourceDir);
  const fingerprint = sourceFingerprint(files);
  await rm(outDir, { recursive: true, force: true });
  await compile(files, { sourcemap: pack ? false : 'linked' });
  await declarations();
  await writeAtomic(stampFile, fingerprint);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await buildRuntime({ pack: process.argv.includes('--pack') });
}
