/**
 * Serves the viewer page from Node: the page and its modules from src/viewer, three.js
 * from node_modules (no network), the results (.glb, .ply, .splat) of a file or folder, and
 * the metrics.jsonl that sits beside them. Only those files are reachable. For 4D GLB
 * results, /api/time evaluates the deformation field at any time (see time-endpoint below).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { readFile, readdir, stat } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from '../errors.ts';
import { read4dGlb, type Read4dResult } from '../io/glb-4d.ts';
import { writeSplatGlb } from '../io/glb.ts';
import { evaluateState } from '../scene/deform/evaluate-state.ts';

export const RESULT_EXTENSIONS = ['.glb', '.ply', '.splat'];
export const METRICS_FILE = 'metrics.jsonl';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.jsonl': 'application/x-ndjson',
  '.glb': 'model/gltf-binary',
  '.ply': 'application/octet-stream',
  '.splat': 'application/octet-stream',
};

const viewerDir = dirname(fileURLToPath(import.meta.url));
// three's "require" export is build/three.cjs; its package root is one level up.
const threeDir = resolve(dirname(createRequire(import.meta.url).resolve('three')), '..');
const THREE_SERVED = ['build', join('examples', 'jsm')];

export interface ViewerTarget {
  /** Folder the results live in. */
  dir: string;
  /** Result file names in that folder, in display order. */
  results: string[];
  title: string;
}

/** Works out which results a file or folder offers; bad paths are InputErrors. */
export async function resolveTarget(path: string): Promise<ViewerTarget> {
  let info;
  try {
    info = await stat(path);
  } catch {
    throw new InputError(`${path}: no such file or folder.`);
  }
  if (info.isDirectory()) {
    const results = (await readdir(path)).filter((f) => RESULT_EXTENSIONS.includes(extname(f).toLowerCase())).sort();
    if (results.length === 0) throw new InputError(`${path}: the folder holds no ${RESULT_EXTENSIONS.join(', ')} file to show.`);
    return { dir: resolve(path), results, title: basename(resolve(path)) };
  }
  if (!RESULT_EXTENSIONS.includes(extname(path).toLowerCase()))
    throw new InputError(`${path}: the viewer shows ${RESULT_EXTENSIONS.join(', ')} files.`);
  return { dir: dirname(resolve(path)), results: [basename(path)], title: basename(path) };
}

export interface ViewerServer {
  url: string;
  close(): Promise<void>;
}

export async function startViewerServer(target: ViewerTarget, port = 8080, host = '127.0.0.1'): Promise<ViewerServer> {
  const server = createServer((req, res) => {
    handle(target, req, res).catch((e) => send(res, 500, 'text/plain', String((e as Error).message)));
  });
  await new Promise<void>((done, fail) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      fail(e.code === 'EADDRINUSE' ? new InputError(`port ${port} is in use; pass another with --port.`) : e),
    );
    server.listen(port, host, done);
  });
  const address = server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  return {
    url: `http://${host}:${actualPort}/`,
    close: () => new Promise<void>((done) => {
      server.closeAllConnections();
      server.close(() => done());
    }),
  };
}

function send(res: ServerResponse, status: number, type: string, body: string | Uint8Array): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(body);
}

/** Resolves `relative` inside `root`, or undefined when it would escape it. */
function inside(root: string, relative: string): string | undefined {
  const full = resolve(root, relative);
  return full.startsWith(root + sep) ? full : undefined;
}

async function sendFile(res: ServerResponse, path: string | undefined): Promise<void> {
  if (!path) return send(res, 404, 'text/plain', 'not found');
  try {
    send(res, 200, CONTENT_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream', await readFile(path));
  } catch {
    send(res, 404, 'text/plain', 'not found');
  }
}

async function handle(target: ViewerTarget, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = decodeURIComponent(new URL(req.url ?? '/', 'http://viewer').pathname);
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'method not allowed');
  if (path === '/') return sendFile(res, join(viewerDir, 'index.html'));
  if (path === '/favicon.ico') return send(res, 204, 'image/x-icon', '');
  if (path.startsWith('/app/')) {
    const name = path.slice(5);
    const ok = /^[\w-]+\.(js|css)$/.test(name);
    return sendFile(res, ok ? join(viewerDir, name) : undefined);
  }
  if (path.startsWith('/three/')) {
    const relative = path.slice(7);
    const allowed = THREE_SERVED.some((d) => relative.startsWith(d.split(sep).join('/') + '/'));
    return sendFile(res, allowed ? inside(threeDir, relative) : undefined);
  }
  if (path === '/api/manifest') {
    const hasMetrics = await stat(join(target.dir, METRICS_FILE)).then((s) => s.isFile(), () => false);
    const manifest = {
      title: target.title,
      results: target.results.map((name) => {
        const format = extname(name).slice(1).toLowerCase();
        const entry = { name, url: `/files/${encodeURIComponent(name)}`, format };
        // Where the page asks for exact times, should the GLB turn out to carry a deformation field.
        return format === 'glb' ? { ...entry, time: `/api/time?name=${encodeURIComponent(name)}` } : entry;
      }),
      metrics: hasMetrics ? `/files/${METRICS_FILE}` : null,
    };
    return send(res, 200, CONTENT_TYPES['.json'], JSON.stringify(manifest));
  }
  if (path === '/api/time') return sendTime(target, new URL(req.url ?? '/', 'http://viewer').searchParams, res);
  if (path.startsWith('/files/')) {
    const name = path.slice(7);
    const listed = target.results.includes(name) || name === METRICS_FILE;
    return sendFile(res, listed ? join(target.dir, name) : undefined);
  }
  return send(res, 404, 'text/plain', 'not found');
}

/**
 * The exact frame of a 4D result: the field in its RL4D_deformation_field extension evaluated
 * at `?t=` in Node with evaluateState (the reference the exporter bakes frames with), returned
 * as a static splat GLB that the page loads with the same GLTFLoader path as any result.
 * Evaluating here rather than in the page keeps one implementation of every field kind; the
 * parsed file is cached per result and modification time.
 */
const fieldCache = new Map<string, { mtimeMs: number; result: Read4dResult }>();

async function sendTime(target: ViewerTarget, query: URLSearchParams, res: ServerResponse): Promise<void> {
  const name = query.get('name') ?? '';
  const t = Number(query.get('t'));
  if (!target.results.includes(name) || extname(name).toLowerCase() !== '.glb') return send(res, 404, 'text/plain', 'not found');
  if (query.get('t') === null || !Number.isFinite(t)) return send(res, 400, 'text/plain', `'t' must be a finite number.`);
  const file = join(target.dir, name);
  const { mtimeMs } = await stat(file);
  let cached = fieldCache.get(file);
  if (!cached || cached.mtimeMs !== mtimeMs) {
    try {
      cached = { mtimeMs, result: read4dGlb(new Uint8Array(await readFile(file)), name) };
    } catch (e) {
      if (e instanceof InputError) return send(res, 400, 'text/plain', e.message);
      throw e;
    }
    fieldCache.set(file, cached);
  }
  const { state, canonical } = cached.result;
  send(res, 200, CONTENT_TYPES['.glb'], writeSplatGlb(evaluateState(state, t, canonical), { name: `t=${t}` }));
}
