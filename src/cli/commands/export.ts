/** `rl4d export`: converts splats between .ply, .splat and .glb, or meshes them into a GLB. */
import { extname } from 'node:path';
import { InputError } from '../../errors.ts';
import { parseArgs } from '../args.ts';
import { encodeGaussians, GAUSSIAN_EXTENSIONS, loadGaussians } from '../../io/gaussians-file.ts';
import { MESH_RESOLUTION_LIMITS, splatsToMesh } from '../../io/splat-mesh.ts';
import { writeMeshGlb } from '../../io/mesh-glb.ts';
import { writeFileAtomic } from '../../io/write-atomic.ts';

export const summary = 'convert splats between .ply, .splat and .glb (KHR_gaussian_splatting), or mesh them into a GLB';

const USAGE = `usage: rl4d export <in.ply|in.splat|in.glb> --to <out.glb|out.ply|out.splat> [--mesh] [--resolution N] [--iso A]

  --to FILE        output; its extension picks the format
  --mesh           write a triangle mesh (marching cubes over the splats' opacity) instead of splats; needs a .glb output
  --resolution N   mesh grid cells along the longest side (${MESH_RESOLUTION_LIMITS.min}..${MESH_RESOLUTION_LIMITS.max}, default 64)
  --iso A          opacity level of the mesh surface, 0 < A < 1 (default 0.5)`;

export async function run(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(USAGE);
    return 0;
  }
  const { positionals, options } = parseArgs('export', argv, { to: 'string', mesh: 'boolean', resolution: 'number', iso: 'number' });
  if (positionals.length !== 1) throw new InputError(`expected one input file, got ${positionals.length}.\n${USAGE}`);
  const input = positionals[0];
  const output = options.to as string | undefined;
  if (!output) throw new InputError(`missing --to <output file>.\n${USAGE}`);
  const mesh = options.mesh === true;
  if (!mesh && (options.resolution !== undefined || options.iso !== undefined))
    throw new InputError('--resolution and --iso apply to --mesh only.');
  if (mesh && extname(output).toLowerCase() !== '.glb') throw new InputError(`--mesh writes a GLB; name the output '.glb', not '${output}'.`);
  if (!(GAUSSIAN_EXTENSIONS as readonly string[]).includes(extname(output).toLowerCase()))
    throw new InputError(`${output}: unknown output format; use ${GAUSSIAN_EXTENSIONS.join(', ')}.`);

  const data = await loadGaussians(input);
  let bytes: Uint8Array;
  let what: string;
  if (mesh) {
    const result = splatsToMesh(data, { resolution: options.resolution as number | undefined, isoLevel: options.iso as number | undefined });
    if (result.indices.length === 0)
      throw new InputError(`the splats' opacity never reaches ${options.iso ?? 0.5}; lower --iso or raise --resolution.`);
    bytes = writeMeshGlb(result);
    what = `mesh of ${result.indices.length / 3} triangles, ${result.positions.length / 3} vertices`;
  } else {
    bytes = encodeGaussians(output, data);
    what = `${data.count} splats, SH degree ${data.shDegree}`;
    if (extname(output).toLowerCase() === '.splat' && data.shDegree > 0)
      console.log(`note: .splat keeps only the base colour; SH degrees 1..${data.shDegree} are not written.`);
  }
  await writeFileAtomic(output, bytes);
  console.log(`wrote ${output} (${what}, ${bytes.byteLength} bytes)`);
  return 0;
}
