/**
 * Deterministic randomness and MSK clock arithmetic for the QTickets sandbox generator. Nothing
 * here reads the clock or `Math.random`: every value is a pure function of its inputs, so a seeded
 * sandbox serves the same data after a restart.
 */
import { IANAZone } from 'luxon';

/** Finalizer of MurmurHash3: spreads the bits of a 32-bit integer. */
function mix32(value: number): number {
  let h = value >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * A 32-bit seed derived from integer parts (seed, stream, day, index …): different parts give
 * independent streams, so adding a scenario never shifts the numbers of existing data.
 */
export function hashSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const part of parts) {
    const lo = part | 0;
    const hi = Math.floor(part / 0x1_0000_0000) | 0;
    h = mix32(h ^ mix32(lo + 0x7f4a7c15));
    h = mix32(h ^ mix32(hi + 0x2545f491));
  }
  return h;
}

/** mulberry32: a small, fast PRNG with a 32-bit state; plenty for fake ticket sales. */
export class Rng {
  #state: number;

  /** @param seed any 32-bit integer, usually from `hashSeed`. */
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 0x1_0000_0000;
  }

  /** An integer in [min, max], both inclusive. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** True with probability `p` (0..1). */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /** An index chosen with the given non-negative weights (at least one positive). */
  weighted(weights: readonly number[]): number {
    const total = weights.reduce((a, b) => a + b, 0);
    let r = this.next() * total;
    for (let i = 0; i < weights.length; i++) {
      r -= weights[i] as number;
      if (r < 0) return i;
    }
    return weights.length - 1;
  }

  /** The list shuffled (Fisher–Yates) into a new array. */
  shuffle<T>(items: readonly T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [out[i], out[j]] = [out[j] as T, out[i] as T];
    }
    return out;
  }

  /** `length` characters drawn from `alphabet`. */
  text(length: number, alphabet: string): string {
    let out = '';
    for (let i = 0; i < length; i++) out += alphabet[Math.floor(this.next() * alphabet.length)];
    return out;
  }
}

/** The zone QTickets writes its timestamps in (`+03:00`). */
export const QTICKETS_ZONE = 'Europe/Moscow';
/** Day 0 of the generator's day numbers; earlier dates have no data. */
export const FIRST_DATE = '2000-01-01';
const EPOCH_MS = Date.parse(`${FIRST_DATE}T00:00:00Z`);
const DAY_MS = 86_400_000;

/** Day number of an ISO date `YYYY-MM-DD` (0 = 2000-01-01; negative before). */
export function dayNumberOf(date: string): number {
  return Math.round((Date.parse(`${date}T00:00:00Z`) - EPOCH_MS) / DAY_MS);
}

/** ISO date `YYYY-MM-DD` of a day number. */
export function dateOfDayNumber(day: number): string {
  return new Date(EPOCH_MS + day * DAY_MS).toISOString().slice(0, 10);
}

/** Weekday of a day number, 0 = Sunday … 6 = Saturday. */
export function weekdayOf(day: number): number {
  return new Date(EPOCH_MS + day * DAY_MS).getUTCDay();
}

/**
 * Moscow's UTC offset, minutes, by UTC day: null marks the rare day on which it changed (2011,
 * 2014), where every instant is asked for individually. luxon asks Intl for an offset, which costs
 * tens of microseconds, and the generator writes thousands of timestamps.
 */
const offsetByDay = new Map<number, number | null>();

function mskOffsetMinutes(unixMs: number): number {
  const day = Math.floor(unixMs / DAY_MS);
  let offset = offsetByDay.get(day);
  if (offset === undefined) {
    const zone = IANAZone.create(QTICKETS_ZONE);
    const atStart = zone.offset(day * DAY_MS);
    offset = atStart === zone.offset((day + 1) * DAY_MS - 1) ? atStart : null;
    if (offsetByDay.size > 100_000) offsetByDay.clear();
    offsetByDay.set(day, offset);
  }
  return offset ?? IANAZone.create(QTICKETS_ZONE).offset(unixMs);
}

/** Unix seconds of 00:00 in Moscow on the given day number. */
export function mskMidnightUnix(day: number): number {
  const utcMidnightMs = EPOCH_MS + day * DAY_MS;
  return Math.round((utcMidnightMs - mskOffsetMinutes(utcMidnightMs - 3 * 3_600_000) * 60_000) / 1000);
}

/** Day number of the Moscow calendar date of an instant. */
export function mskDayOfUnix(unixSeconds: number): number {
  const localMs = unixSeconds * 1000 + mskOffsetMinutes(unixSeconds * 1000) * 60_000;
  return Math.floor((localMs - EPOCH_MS) / DAY_MS);
}

/** An instant written the way QTickets writes it: Moscow wall time with offset, `2021-05-18T12:23:40+03:00`. */
export function mskIso(unixSeconds: number): string {
  const offset = mskOffsetMinutes(unixSeconds * 1000);
  const local = new Date(unixSeconds * 1000 + offset * 60_000).toISOString().slice(0, 19);
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  return `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}
