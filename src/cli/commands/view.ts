/** `rl4d view`: serves the three.js viewer for a result file or a run folder. */
import { InputError } from '../../errors.ts';
import { parseArgs } from '../args.ts';
import { resolveTarget, startViewerServer } from '../../viewer/server.ts';

export const summary = 'serve the three.js viewer for a .glb/.ply/.splat result or a run folder (prints the URL)';

const USAGE = `usage: rl4d view <file|dir> [--port N] [--host H]

  Serves a page showing the result (splats or meshes) and, when metrics.jsonl sits beside
  it, the run's metric curves. Prints the URL and opens nothing; Ctrl+C stops it.
  --port N   port to listen on (default 8080; 0 picks a free one)
  --host H   interface to listen on (default 127.0.0.1)`;

export async function run(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(USAGE);
    return 0;
  }
  const { positionals, options } = parseArgs('view', argv, { port: 'number', host: 'string' });
  if (positionals.length !== 1) throw new InputError(`expected one file or folder, got ${positionals.length}.\n${USAGE}`);
  const port = (options.port as number | undefined) ?? 8080;
  if (!(Number.isInteger(port) && port >= 0 && port <= 65535)) throw new InputError(`--port ${port} is not a port number (0..65535).`);
  const target = await resolveTarget(positionals[0]);
  const server = await startViewerServer(target, port, (options.host as string | undefined) ?? '127.0.0.1');
  console.log(`rl4d viewer: ${server.url}  (${target.results.length} result${target.results.length > 1 ? 's' : ''}; Ctrl+C to stop)`);
  await new Promise<void>((done) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      done();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await server.close();
  return 0;
}
