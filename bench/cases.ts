// What `npm run bench` measures and its command-line flags.
//   --cases small|all   small (default): the cases that take seconds on SwiftShader; all: every case
//                       the adapter's memory allows (on SwiftShader the large ones take minutes a step)
//   --steps N           timed steps per window (default 2)
//   --repeats N         timed windows per engine, ours and the peer's alternating so that both see the
//                       same machine load; the best window counts (default 2)
//   --warmup N          untimed steps first (default 1: pipelines compile, buffers get allocated)
//   --no-peer           skip the TensorFlow.js peer
//   --no-extras         skip the loader-throughput and clustering lines
//   --no-linearity      skip the linearity cases (tokens ×2, d_sae ×2)
//   --architecture A    relu (default) | topk | jumprelu: the SAE the trainer cases train (the peer is
//                       ReLU only, so another architecture runs without it); --k N sets TopK's k
//   --max-gflop G       skip trainer cases above G GFLOP per step (--cases all --max-gflop 50 runs the
//                       mid-size case but not the 258-GFLOP one)
//   --case D,M,TOKENS   time this one trainer case (d_in, d_sae, tokens per step; tokens a multiple of
//                       128) instead of the list, and measure linearity around it
//   --adapter A         default (Dawn's first adapter: a real GPU when Vulkan finds one, else SwiftShader)
//                       | swiftshader (force Chromium's SwiftShader ICD: a check on a machine without GPU)

import { ARCHITECTURE_IDS as ARCHITECTURES } from '../src/sae/architectures';
import type { Architecture } from '../src/sae/config';

export interface TrainerCase {
  d: number;
  d_sae: number;
  tokens: number;
  /** Sequences × positions of the batch (tokens = S·T). */
  S: number;
  T: number;
}

/** Positions per sequence in every bench batch (the default context size). */
export const BENCH_T = 128;

function shape(d: number, d_sae: number, tokens: number): TrainerCase {
  return { d, d_sae, tokens, S: tokens / BENCH_T, T: BENCH_T };
}

/** The brief's cases: a toy SAE, a mid-size one, and GPT-2-small width with a 16k dictionary. */
export const TRAINER_CASES: TrainerCase[] = [
  shape(64, 512, 1024),
  shape(512, 4096, 2048),
  shape(768, 16384, 2048),
];

/** Linearity is measured around the first case: doubling tokens, then doubling d_sae. */
export const LINEARITY_BASE = TRAINER_CASES[0];

/**
 * On SwiftShader (CPU emulation, ~3 GFLOP/s at best) a step above this many FLOP takes more than a few
 * seconds for our trainer and minutes for the peer, so `--cases small` skips it.
 */
export const SWIFTSHADER_SMALL_FLOP = 2e9;

export interface BenchOptions {
  cases: 'small' | 'all';
  /** The trained SAE's architecture (absent: the config default, relu). */
  architecture?: Architecture;
  /** TopK's k (absent: the config default). */
  k?: number;
  /** false: skip the linearity cases (absent: run them). */
  linearity?: boolean;
  /** Skip trainer cases above this many GFLOP per step (absent: no cap). */
  maxGflop?: number;
  /** One trainer case instead of TRAINER_CASES (--case D,M,TOKENS). */
  only?: TrainerCase;
  /** 'swiftshader': force the SwiftShader ICD (absent: Dawn's default adapter). */
  adapter?: 'default' | 'swiftshader';
  steps: number;
  repeats: number;
  warmup: number;
  peer: boolean;
  extras: boolean;
}

export const DEFAULT_BENCH_OPTIONS: BenchOptions = {
  cases: 'small',
  steps: 2,
  repeats: 2,
  warmup: 1,
  peer: true,
  extras: true,
};

export function parseBenchArgs(argv: string[]): BenchOptions {
  const o = { ...DEFAULT_BENCH_OPTIONS };
  const count = (flag: string, v: string | undefined, min: number): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new Error(`${flag} needs an integer ≥ ${min} (got ${v})`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [flag, inline] = a.includes('=')
      ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)]
      : [a, undefined];
    const value = () => inline ?? argv[++i];
    if (flag === '--cases') {
      const v = value();
      if (v !== 'small' && v !== 'all') throw new Error(`--cases must be small or all (got ${v})`);
      o.cases = v;
    } else if (flag === '--steps') o.steps = count(flag, value(), 1);
    else if (flag === '--repeats') o.repeats = count(flag, value(), 1);
    else if (flag === '--warmup') o.warmup = count(flag, value(), 0);
    else if (flag === '--no-peer') o.peer = false;
    else if (flag === '--no-extras') o.extras = false;
    else if (flag === '--no-linearity') o.linearity = false;
    else if (flag === '--architecture' || flag === '--arch') {
      const v = value();
      if (!ARCHITECTURES.includes(v as Architecture))
        throw new Error(`--architecture must be ${ARCHITECTURES.join('|')} (got ${v})`);
      o.architecture = v as Architecture;
    } else if (flag === '--k') o.k = count(flag, value(), 1);
    else if (flag === '--max-gflop') {
      const v = Number(value());
      if (!(v > 0)) throw new Error(`--max-gflop needs a positive number`);
      o.maxGflop = v;
    } else if (flag === '--case') {
      const v = value();
      const parts = String(v).split(',').map(Number);
      if (parts.length !== 3 || !parts.every((n) => Number.isInteger(n) && n > 0) || parts[2] % BENCH_T)
        throw new Error(
          `--case needs D,M,TOKENS: positive integers, TOKENS a multiple of ${BENCH_T} (got ${v})`,
        );
      o.only = shape(parts[0], parts[1], parts[2]);
    } else if (flag === '--adapter') {
      const v = value();
      if (v !== 'default' && v !== 'swiftshader')
        throw new Error(`--adapter must be default or swiftshader (got ${v})`);
      o.adapter = v;
    } else
      throw new Error(
        `unknown flag ${a} (flags: --cases small|all, --steps N, --repeats N, --warmup N, --no-peer, ` +
          `--no-extras, --no-linearity, --architecture ${ARCHITECTURES.join('|')}, --k N, --max-gflop G, ` +
          `--case D,M,TOKENS, --adapter default|swiftshader)`,
      );
  }
  // The tf.js peer implements the ReLU SAE only (bench/tfjsPeer.ts).
  if (o.architecture && o.architecture !== 'relu') o.peer = false;
  return o;
}
