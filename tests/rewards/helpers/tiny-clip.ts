/**
 * Writes a tiny CLIP-shaped model folder for tests: vision_model.onnx (pixel_values ->
 * image_embeds = per-channel mean of the un-normalised image, i.e. its average colour),
 * text_model.onnx (input_ids, attention_mask -> text_embeds = mean of a colour embedding per
 * token), vocab.json, merges.txt and preprocessor_config.json. Built with onnx-proto.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import onnxPkg from 'onnx-proto';
import { CLIP_MEAN, CLIP_STD } from '../../../src/rewards/clip-preprocess.ts';

const { onnx } = onnxPkg as unknown as { onnx: any };
const T = () => onnx.TensorProto.DataType;
const A = () => onnx.AttributeProto.AttributeType;

function valueInfo(name: string, elemType: number, dims: (number | string)[]) {
  return onnx.ValueInfoProto.create({
    name,
    type: { tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  });
}

function floatTensor(name: string, dims: number[], values: number[]) {
  return onnx.TensorProto.create({ name, dims, dataType: T().FLOAT, floatData: values });
}

function model(graph: object): Uint8Array {
  return onnx.ModelProto.encode(onnx.ModelProto.create({ irVersion: 7, opsetImport: [{ domain: '', version: 13 }], producerName: 'rl4d-test', graph })).finish();
}

export const WORDS = ['a', 'red', 'blue', 'green', 'cube', 'sphere'];
const EMBED: Record<string, number[]> = { 'red</w>': [1, 0, 0], 'green</w>': [0, 1, 0], 'blue</w>': [0, 0, 1] };

export function writeTinyClip(dir: string, size = 16): { vocab: Record<string, number> } {
  mkdirSync(dir, { recursive: true });
  // Vocabulary: letters, letters with </w>, merges building each word, then the specials.
  const tokens: string[] = [];
  const merges: string[] = [];
  for (let c = 97; c <= 122; c++) tokens.push(String.fromCharCode(c), `${String.fromCharCode(c)}</w>`);
  for (const w of WORDS) {
    let cur = w[0];
    for (let i = 1; i < w.length; i++) {
      const next = i === w.length - 1 ? `${w[i]}</w>` : w[i];
      merges.push(`${cur} ${next}`);
      cur += next;
      if (!tokens.includes(cur)) tokens.push(cur);
    }
  }
  tokens.push('<|startoftext|>', '<|endoftext|>');
  const vocab = Object.fromEntries(tokens.map((t, i) => [t, i]));
  writeFileSync(join(dir, 'vocab.json'), JSON.stringify(vocab));
  writeFileSync(join(dir, 'merges.txt'), `#version: 0.2\n${merges.join('\n')}\n`);
  writeFileSync(join(dir, 'preprocessor_config.json'), JSON.stringify({ crop_size: size, image_mean: CLIP_MEAN, image_std: CLIP_STD }));

  const vision = onnx.GraphProto.create({
    name: 'vision',
    node: [
      onnx.NodeProto.create({ opType: 'ReduceMean', input: ['pixel_values'], output: ['m'], attribute: [
        onnx.AttributeProto.create({ name: 'axes', ints: [2, 3], type: A().INTS }),
        onnx.AttributeProto.create({ name: 'keepdims', i: 0, type: A().INT }),
      ] }),
      // (x - mean) / std + mean / std = x / std: the embedding is the average colour (per std).
      onnx.NodeProto.create({ opType: 'Add', input: ['m', 'bias'], output: ['image_embeds'] }),
    ],
    initializer: [floatTensor('bias', [3], CLIP_MEAN.map((m, c) => m / CLIP_STD[c]))],
    input: [valueInfo('pixel_values', T().FLOAT, ['batch', 3, size, size])],
    output: [valueInfo('image_embeds', T().FLOAT, ['batch', 3])],
  });
  const table = tokens.flatMap((t) => EMBED[t] ?? [0, 0, 0]);
  const text = onnx.GraphProto.create({
    name: 'text',
    node: [
      onnx.NodeProto.create({ opType: 'Gather', input: ['table', 'input_ids'], output: ['e'], attribute: [onnx.AttributeProto.create({ name: 'axis', i: 0, type: A().INT })] }),
      onnx.NodeProto.create({ opType: 'ReduceMean', input: ['e'], output: ['text_embeds'], attribute: [
        onnx.AttributeProto.create({ name: 'axes', ints: [1], type: A().INTS }),
        onnx.AttributeProto.create({ name: 'keepdims', i: 0, type: A().INT }),
      ] }),
    ],
    initializer: [floatTensor('table', [tokens.length, 3], table)],
    input: [valueInfo('input_ids', T().INT64, ['batch', 'seq']), valueInfo('attention_mask', T().INT64, ['batch', 'seq'])],
    output: [valueInfo('text_embeds', T().FLOAT, ['batch', 3])],
  });
  writeFileSync(join(dir, 'vision_model.onnx'), model(vision));
  writeFileSync(join(dir, 'text_model.onnx'), model(text));
  return { vocab };
}
