/**
 * CLIP's byte-level BPE tokenizer: lower-cased, whitespace-normalised text is split with
 * CLIP's pattern, each piece's UTF-8 bytes are mapped to printable characters, the last one
 * gets the end-of-word mark `</w>`, and merges are applied by rank. Ids are wrapped in
 * <|startoftext|> ... <|endoftext|> and padded to the context length.
 * Reads `vocab.json` + `merges.txt` or a Hugging Face `tokenizer.json`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors.ts';

const SOT = '<|startoftext|>';
const EOT = '<|endoftext|>';
const PATTERN = /<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+/giu;

/** The reversible byte -> printable character table of byte-level BPE. */
export function byteToUnicode(): string[] {
  const printable: number[] = [];
  for (let b = 33; b <= 126; b++) printable.push(b);
  for (let b = 161; b <= 172; b++) printable.push(b);
  for (let b = 174; b <= 255; b++) printable.push(b);
  const table: string[] = new Array(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) table[b] = String.fromCodePoint(printable.includes(b) ? b : 256 + extra++);
  return table;
}

export class ClipTokenizer {
  private readonly bytes = byteToUnicode();
  private readonly ranks: Map<string, number>;
  private readonly cache = new Map<string, string[]>();
  readonly sot: number;
  readonly eot: number;

  constructor(private readonly vocab: Record<string, number>, merges: [string, string][], readonly contextLength = 77) {
    this.ranks = new Map(merges.map(([a, b], i) => [`${a} ${b}`, i]));
    if (!(SOT in vocab) || !(EOT in vocab)) throw new InputError(`CLIP tokenizer: the vocabulary lacks ${SOT} or ${EOT}.`);
    this.sot = vocab[SOT];
    this.eot = vocab[EOT];
  }

  /** Loads vocab.json + merges.txt, or tokenizer.json, from a folder. */
  static fromFolder(dir: string, contextLength = 77): ClipTokenizer {
    const vocabPath = join(dir, 'vocab.json');
    const mergesPath = join(dir, 'merges.txt');
    const tokJson = join(dir, 'tokenizer.json');
    try {
      if (existsSync(vocabPath) && existsSync(mergesPath)) {
        const lines = readFileSync(mergesPath, 'utf8').split('\n').filter((l) => l && !l.startsWith('#version'));
        return new ClipTokenizer(JSON.parse(readFileSync(vocabPath, 'utf8')), lines.map((l) => l.split(' ') as [string, string]), contextLength);
      }
      if (existsSync(tokJson)) {
        const t = JSON.parse(readFileSync(tokJson, 'utf8'));
        const merges = (t.model.merges as (string | [string, string])[]).map((m) => (typeof m === 'string' ? (m.split(' ') as [string, string]) : m));
        return new ClipTokenizer(t.model.vocab, merges, contextLength);
      }
    } catch (e) {
      if (e instanceof InputError) throw e;
      throw new InputError(`CLIP tokenizer in ${dir}: could not read it: ${(e as Error).message}`);
    }
    throw new InputError(`CLIP tokenizer: ${dir} has neither vocab.json + merges.txt nor tokenizer.json.`);
  }

  private bpe(piece: string): string[] {
    const hit = this.cache.get(piece);
    if (hit) return hit;
    const chars = [...piece];
    let word = chars.map((c, i) => (i === chars.length - 1 ? `${c}</w>` : c));
    while (word.length > 1) {
      let best = -1;
      let bestRank = Infinity;
      for (let i = 0; i < word.length - 1; i++) {
        const r = this.ranks.get(`${word[i]} ${word[i + 1]}`);
        if (r !== undefined && r < bestRank) {
          bestRank = r;
          best = i;
        }
      }
      if (best < 0) break;
      const a = word[best];
      const b = word[best + 1];
      const merged: string[] = [];
      for (let i = 0; i < word.length; i++) {
        if (i < word.length - 1 && word[i] === a && word[i + 1] === b) {
          merged.push(a + b);
          i++;
        } else merged.push(word[i]);
      }
      word = merged;
    }
    this.cache.set(piece, word);
    return word;
  }

  /** Token ids of one text, without padding. Unknown symbols (not in the vocabulary) are dropped. */
  tokenize(text: string): number[] {
    const clean = text.replace(/\s+/g, ' ').trim().toLowerCase();
    const ids: number[] = [];
    for (const m of clean.matchAll(PATTERN)) {
      const piece = [...new TextEncoder().encode(m[0])].map((b) => this.bytes[b]).join('');
      for (const t of this.bpe(piece)) {
        const id = this.vocab[t];
        if (id !== undefined) ids.push(id);
      }
    }
    return ids;
  }

  /** [SOT, ...ids, EOT] truncated and padded (with EOT, as Hugging Face pads CLIP) to the context length. */
  encode(text: string): { ids: number[]; mask: number[] } {
    const body = this.tokenize(text).slice(0, this.contextLength - 2);
    const ids = [this.sot, ...body, this.eot];
    const mask = ids.map(() => 1);
    while (ids.length < this.contextLength) {
      ids.push(this.eot);
      mask.push(0);
    }
    return { ids, mask };
  }
}
