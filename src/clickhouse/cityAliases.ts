/** Reads `zakaz.dim_city_alias` (alias → canonical city) for the fetch jobs. */
import type { DbClient } from './db.js';

/** One alias row. */
export interface CityAlias {
  alias: string;
  city: string;
}

/** Every alias, newest version of each (the table is a ReplacingMergeTree). */
export async function loadCityAliases(db: DbClient): Promise<CityAlias[]> {
  return db.query<CityAlias>('SELECT alias, city FROM zakaz.dim_city_alias FINAL ORDER BY alias');
}
