/**
 * zod schemas of the QTickets REST v1 responses the ETL reads, with the PHP-style polymorphism
 * normalised on the way in (see `polymorphism.ts`). Only the fields the ETL uses are kept; every
 * other key is dropped while parsing, so a 1 MB events page costs no more than its ids, names and
 * show dates. Source: https://qtickets.help/article/rest-api/ (`GET /orders`, `GET /events`,
 * errors) and the recorded responses in test/fixtures/qtickets/.
 */
import { Decimal } from 'decimal.js';
import { z } from 'zod';
import { isoInstantToUnix } from '../../time/dates.js';
import { localizedText, phpAssoc, phpFlag, utmTags } from './polymorphism.js';

/**
 * A field read leniently through `normalise`; an absent key is passed as undefined (zod 4 treats a
 * bare `unknown().transform()` key as required).
 */
const lenient = <T>(normalise: (value: unknown) => T) => z.unknown().optional().transform(normalise);

/** A numeric id; numeric strings are accepted too. */
const id = z.union([z.int().nonnegative(), z.string().regex(/^\d+$/).transform(Number)]);

/** A PHP flag (`true`, `1`, `"1"` …) as a boolean. */
const flag = z.unknown().transform((value, ctx) => {
  const b = phpFlag(value);
  if (b === null) {
    ctx.addIssue({
      code: 'custom',
      message: `expected a flag (true/false or 0/1), got ${JSON.stringify(value)}`,
    });
    return z.NEVER;
  }
  return b;
});

/** The ECMAScript date-time form, which `Date.parse` reads exactly (and ~50× faster than luxon). */
const ES_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?(Z|[+-]\d{2}:\d{2})$/;

/** An instant written with an offset, e.g. `2021-05-18T12:23:40+03:00`, as unix seconds. */
const instantUnix = z.string().transform((text, ctx) => {
  const unix = ES_INSTANT.test(text)
    ? Math.floor(Date.parse(text) / 1000)
    : /(Z|[+-]\d{2}:?\d{2})$/.test(text)
      ? isoInstantToUnix(text)
      : Number.NaN;
  if (Number.isNaN(unix)) {
    ctx.addIssue({ code: 'custom', message: `expected an ISO 8601 instant with offset, got "${text}"` });
    return z.NEVER;
  }
  return unix;
});
const optionalInstantUnix = instantUnix
  .nullable()
  .optional()
  .transform((v) => v ?? null);

/**
 * Money: a JSON number of rubles (the docs type it as float; the data holds integers such as
 * `294`), or a numeric string, as an exact decimal string with 2 fraction digits (`"294.00"`).
 */
const rub = z
  .union([
    z.number().refine(Number.isFinite, 'expected a finite number'),
    z.string().regex(/^-?\d+(\.\d+)?$/),
  ])
  .transform((v) => new Decimal(v).toFixed(2));

/** One ticket line of an order (`baskets[]`). */
const basketSchema = z.object({
  id,
  show_id: id
    .nullable()
    .optional()
    .transform((v) => v ?? null),
  /** Price after discounts, rubles. */
  price: rub,
  quantity: z
    .int()
    .nonnegative()
    .nullable()
    .optional()
    .transform((v) => v ?? 1),
  deleted_at: optionalInstantUnix,
  refunded_at: optionalInstantUnix,
  refunded_amount: rub
    .nullable()
    .optional()
    .transform((v) => v ?? null),
});

/** An order as the ETL reads it (`GET /orders` list item). */
export const orderSchema = z.object({
  id,
  payed: flag,
  payed_at: optionalInstantUnix,
  event_id: id,
  currency_id: z
    .string()
    .nullable()
    .optional()
    .transform((v) => v ?? ''),
  price: rub,
  utm: lenient(utmTags),
  custom: lenient(phpAssoc),
  fields: lenient(phpAssoc),
  integrations: lenient(phpAssoc),
  baskets: z.array(basketSchema),
  deleted_at: optionalInstantUnix,
});

/** A show embedded in an event (`events[].shows[]`); its id is the baskets' `show_id`. */
const showSchema = z.object({
  id,
  start_date: optionalInstantUnix,
});

/** An event as the ETL reads it (`GET /events` list item, `GET /events/{id}` data). */
export const eventSchema = z.object({
  id,
  name: lenient(localizedText),
  is_active: flag.optional(),
  city: z
    .object({ name: lenient(localizedText) })
    .nullable()
    .optional()
    .transform((c) => c ?? null),
  shows: z
    .array(showSchema)
    .nullable()
    .optional()
    .transform((s) => s ?? []),
  deleted_at: optionalInstantUnix,
});

/** `paging` of a list response; `total` counts items, not pages. */
const pagingSchema = z.object({
  perPage: z.int().positive(),
  currentPage: z.int().positive(),
  total: z.int().nonnegative(),
});

/** `GET /orders` → `{data: Order[], paging}`. */
export const ordersPageSchema = z.object({ data: z.array(orderSchema), paging: pagingSchema });
/** `GET /events` → `{data: Event[], paging}`. */
export const eventsPageSchema = z.object({ data: z.array(eventSchema), paging: pagingSchema });
/** `GET /events/{id}` → `{data: Event}`. */
export const eventEnvelopeSchema = z.object({ data: eventSchema });

/**
 * An error body, e.g. `{"error":"Resource \"Order\" not found","status":404,"code":"RESOURCE_NOT_FOUND",
 * "info":{"id":1,"resource":"Order"}}`, or `{"error":"Forbidden","status":403}`. `info` may be `[]`.
 */
export const errorBodySchema = z.object({
  error: z.string().optional(),
  status: z.number().optional(),
  code: z.string().optional(),
  info: lenient(phpAssoc),
});

/** A parsed order: money as 2-digit decimal strings (rubles), instants as unix seconds. */
export type QticketsOrder = z.output<typeof orderSchema>;
/** A parsed basket (ticket line) of an order. */
export type QticketsBasket = QticketsOrder['baskets'][number];
/** A parsed event: name and city name as plain strings, show start instants as unix seconds. */
export type QticketsEvent = z.output<typeof eventSchema>;
/** `paging` of a list response. */
export type QticketsPaging = z.output<typeof pagingSchema>;

/** A short description of why a value failed a schema: the first issues with their paths. */
export function describeIssues(error: z.ZodError, maxIssues = 3): string {
  const shown = error.issues.slice(0, maxIssues).map((issue) => {
    const where = issue.path.length > 0 ? issue.path.map(String).join('.') : '(root)';
    return `${where}: ${issue.message}`;
  });
  const more = error.issues.length > maxIssues ? `; and ${error.issues.length - maxIssues} more` : '';
  return shown.join('; ') + more;
}
