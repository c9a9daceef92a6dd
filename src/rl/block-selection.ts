/**
 * The parameter blocks a parameter-space policy (grpo, dpo) perturbs: 'all' or a list of
 * ParamBlock names. The selection is laid out as one concatenated vector; each block knows
 * its offset so that seeded noise is indexed globally.
 */
import { InputError } from '../errors.ts';
import type { ParamBlock, Representation } from '../scene/representation.ts';

export interface SelectedBlock {
  block: ParamBlock;
  offset: number;
}

export interface BlockSelection {
  blocks: SelectedBlock[];
  /** Total number of f32 elements over the selected blocks. */
  size: number;
  /** Changes when the representation replaces buffers or counts (densification). */
  signature: string;
}

export function selectBlocks(owner: string, representation: Representation, names: 'all' | string[]): BlockSelection {
  const all = representation.params();
  let chosen: ParamBlock[];
  if (names === 'all') chosen = all;
  else {
    const known = all.map((b) => b.name);
    for (const name of names) {
      if (!known.includes(name)) {
        throw new InputError(
          `${owner}: option 'block' names '${name}', which this representation does not have; its blocks are ${known.map((k) => `'${k}'`).join(', ')}.`,
        );
      }
    }
    chosen = all.filter((b) => names.includes(b.name));
  }
  const blocks: SelectedBlock[] = [];
  let size = 0;
  for (const block of chosen) {
    blocks.push({ block, offset: size });
    size += block.count;
  }
  if (size === 0) throw new InputError(`${owner}: the selected parameter blocks are empty; choose blocks with elements in option 'block'.`);
  const signature = blocks.map((b) => `${b.block.name}:${b.block.count}:${b.block.param.label}`).join('|');
  return { blocks, size, signature };
}

/** Same blocks, same sizes and the very same buffers as before. */
export function sameSelection(a: BlockSelection, b: BlockSelection): boolean {
  if (a.signature !== b.signature || a.blocks.length !== b.blocks.length) return false;
  return a.blocks.every((s, i) => s.block.param === b.blocks[i].block.param && s.block.count === b.blocks[i].block.count);
}
