/**
 * The sandbox's event catalogue: touring productions in Russian cities, as QTickets `Event`
 * objects with embedded `shows[]` (https://qtickets.help/article/rest-api/, `GET /events`; shapes
 * copied from the recorded events_page1.json: `is_active` 0/1, `city {id,name,timezone}`, `+03:00`
 * timestamps, deleted events still listed).
 *
 * Time is cut into seasons of `SEASON_DAYS` days. In each season 12 events exist: 10 productions on
 * sale, each in its own city with one show a day, and 2 events deleted soon after creation (no
 * sales). Everything is a pure function of (seed, season), so any date has its events, and an event
 * id alone tells its season and slot (`GET /events/{id}` works for any id).
 */
import { dateOfDayNumber, hashSeed, mskIso, mskMidnightUnix, Rng } from './qticketsRandom.js';

/** A city as QTickets embeds it in an event, plus the generator's sales weight. */
export interface SandboxCity {
  id: number;
  name: string;
  /** IANA zone as QTickets reports it in `city.timezone`. */
  timezone: string;
  /** Offset of local time from UTC, hours (Russia keeps no DST). */
  utcOffsetHours: number;
  /** Subdomain of the public event pages (`https://<slug>.qtickets.events/…`). */
  slug: string;
  coordinates: [number, number];
  /** Relative share of the orders that go to this city. */
  salesWeight: number;
}

/** Ten cities; Томск, Барнаул, Прокопьевск and Междуреченск keep the recorded ids and zones. */
export const SANDBOX_CITIES: readonly SandboxCity[] = [
  {
    id: 1,
    name: 'Москва',
    timezone: 'Europe/Moscow',
    utcOffsetHours: 3,
    slug: 'msk',
    coordinates: [55.7558, 37.6173],
    salesWeight: 5,
  },
  {
    id: 2,
    name: 'Санкт-Петербург',
    timezone: 'Europe/Moscow',
    utcOffsetHours: 3,
    slug: 'spb',
    coordinates: [59.9343, 30.3351],
    salesWeight: 4,
  },
  {
    id: 9,
    name: 'Казань',
    timezone: 'Europe/Moscow',
    utcOffsetHours: 3,
    slug: 'kazan',
    coordinates: [55.7963, 49.1088],
    salesWeight: 2,
  },
  {
    id: 15,
    name: 'Екатеринбург',
    timezone: 'Asia/Yekaterinburg',
    utcOffsetHours: 5,
    slug: 'ekb',
    coordinates: [56.8389, 60.6057],
    salesWeight: 2,
  },
  {
    id: 37,
    name: 'Новосибирск',
    timezone: 'Asia/Novosibirsk',
    utcOffsetHours: 7,
    slug: 'nsk',
    coordinates: [55.0084, 82.9357],
    salesWeight: 2,
  },
  {
    id: 24,
    name: 'Томск',
    timezone: 'Asia/Krasnoyarsk',
    utcOffsetHours: 7,
    slug: 'tomsk',
    coordinates: [56.4595, 84.9655],
    salesWeight: 1,
  },
  {
    id: 68,
    name: 'Барнаул',
    timezone: 'Asia/Novokuznetsk',
    utcOffsetHours: 7,
    slug: 'barnaul',
    coordinates: [53.3495, 83.6377],
    salesWeight: 1,
  },
  {
    id: 279,
    name: 'Прокопьевск',
    timezone: 'Asia/Novosibirsk',
    utcOffsetHours: 7,
    slug: 'prokopevsk',
    coordinates: [53.8865, 86.7505],
    salesWeight: 1,
  },
  {
    id: 205,
    name: 'Междуреченск',
    timezone: 'Asia/Novokuznetsk',
    utcOffsetHours: 7,
    slug: 'mezhdurechensk',
    coordinates: [53.6866, 88.0703],
    salesWeight: 1,
  },
  {
    id: 52,
    name: 'Красноярск',
    timezone: 'Asia/Krasnoyarsk',
    utcOffsetHours: 7,
    slug: 'krasnoyarsk',
    coordinates: [56.0153, 92.8932],
    salesWeight: 2,
  },
];

interface Production {
  title: string;
  slug: string;
  placeName: string;
  placeAddress: string;
  /** Base prices, rubles. */
  adultRub: number;
  childRub: number;
  /** Local start hour of the daily show. */
  localHour: number;
  age: string;
  eventTypeId: number;
}

const PRODUCTIONS: readonly Production[] = [
  {
    title: 'Щелкунчик NEW',
    slug: 'shchelkunchik-new',
    placeName: 'Дворец культуры',
    placeAddress: 'пр. Ленина, 8',
    adultRub: 1200,
    childRub: 900,
    localHour: 12,
    age: '0+',
    eventTypeId: 4,
  },
  {
    title: 'Холодное Сердце',
    slug: 'holodnoe-serdtse',
    placeName: 'Драмтеатр',
    placeAddress: 'ул. Советская, 20',
    adultRub: 1000,
    childRub: 800,
    localHour: 11,
    age: '0+',
    eventTypeId: 4,
  },
  {
    title: 'Детская интерактивная выставка "Корпорация Кубиков"',
    slug: 'korporatsiya-kubikov',
    placeName: 'ТРЦ "Арена"',
    placeAddress: 'Павловский тракт, 188',
    adultRub: 490,
    childRub: 390,
    localHour: 10,
    age: '0+',
    eventTypeId: 11,
  },
  {
    title: 'Лебединое озеро',
    slug: 'lebedinoe-ozero',
    placeName: 'Театр оперы и балета',
    placeAddress: 'Театральная пл., 1',
    adultRub: 2500,
    childRub: 1500,
    localHour: 19,
    age: '6+',
    eventTypeId: 4,
  },
  {
    title: 'Органный концерт при свечах',
    slug: 'organnyj-kontsert',
    placeName: 'Органный зал',
    placeAddress: 'ул. Пушкина, 3',
    adultRub: 1500,
    childRub: 1000,
    localHour: 19,
    age: '6+',
    eventTypeId: 2,
  },
  {
    title: 'Научное шоу профессора Николя',
    slug: 'nauchnoe-shou',
    placeName: 'Дом учёных',
    placeAddress: 'ул. Морская, 23',
    adultRub: 700,
    childRub: 590,
    localHour: 12,
    age: '3+',
    eventTypeId: 11,
  },
  {
    title: 'Стендап: большой концерт',
    slug: 'stendap',
    placeName: 'Концертный зал',
    placeAddress: 'ул. Мира, 15',
    adultRub: 1800,
    childRub: 1800,
    localHour: 20,
    age: '18+',
    eventTypeId: 2,
  },
  {
    title: 'Джаз в темноте',
    slug: 'dzhaz-v-temnote',
    placeName: 'Филармония',
    placeAddress: 'ул. Горького, 42',
    adultRub: 1300,
    childRub: 1300,
    localHour: 19,
    age: '12+',
    eventTypeId: 2,
  },
  {
    title: 'Кукольный театр "Теремок"',
    slug: 'teremok',
    placeName: 'Театр кукол',
    placeAddress: 'ул. Кирова, 5',
    adultRub: 450,
    childRub: 350,
    localHour: 11,
    age: '0+',
    eventTypeId: 4,
  },
  {
    title: 'Мастер-класс по керамике',
    slug: 'master-klass-keramika',
    placeName: 'Арт-пространство "Глина"',
    placeAddress: 'ул. Чехова, 11',
    adultRub: 1500,
    childRub: 1200,
    localHour: 14,
    age: '6+',
    eventTypeId: 11,
  },
];

/** Length of a season, days: each production plays one city for this long. */
export const SEASON_DAYS = 56;
/** Events per season: slots 0..9 are on sale, 10 and 11 are deleted drafts. */
export const EVENTS_PER_SEASON = 12;
/** Slots whose events sell tickets. */
export const SELLING_SLOTS = 10;
const EVENT_ID_BASE = 20_000;
const SHOW_ID_BASE = 300_000;
/** Day offsets (within the season) of the deleted events' shows. */
const DELETED_EVENT_SHOW_DAYS = [10, 17, 24];

/** One event of the catalogue: where and when it plays and what it costs. */
export interface EventPlan {
  eventId: number;
  season: number;
  slot: number;
  city: SandboxCity;
  production: Production;
  /** First and last day number of its season (inclusive). */
  firstDay: number;
  lastDay: number;
  /** False for the deleted drafts (slots 10, 11). */
  selling: boolean;
  /** Ticket prices of this run, rubles. */
  adultRub: number;
  childRub: number;
  createdUnix: number;
  deletedUnix: number | null;
}

/** Id of the event in `slot` of `season`: consecutive per season and slot, so ids grow with time. */
export function eventIdOf(season: number, slot: number): number {
  return EVENT_ID_BASE + season * EVENTS_PER_SEASON + slot;
}

/** Season of a day number. */
export function seasonOfDay(day: number): number {
  return Math.floor(day / SEASON_DAYS);
}

/** The event in `slot` (0..11) of `season` for this seed. */
export function eventPlan(seed: number, season: number, slot: number): EventPlan {
  const rng = new Rng(hashSeed(seed, 2, season, slot));
  const cityIndex = (3 * slot + season) % SANDBOX_CITIES.length;
  const productionIndex = (slot + 7 * season) % PRODUCTIONS.length;
  const production = PRODUCTIONS[productionIndex] as Production;
  const firstDay = season * SEASON_DAYS;
  const markup = 50 * rng.int(0, 4);
  const createdUnix = mskMidnightUnix(firstDay - 21) + rng.int(9 * 3600, 18 * 3600);
  const selling = slot < SELLING_SLOTS;
  return {
    eventId: eventIdOf(season, slot),
    season,
    slot,
    city: SANDBOX_CITIES[cityIndex] as SandboxCity,
    production,
    firstDay,
    lastDay: firstDay + SEASON_DAYS - 1,
    selling,
    adultRub: production.adultRub + markup,
    childRub: production.childRub + markup,
    createdUnix,
    deletedUnix: selling ? null : mskMidnightUnix(firstDay + 2) + rng.int(9 * 3600, 18 * 3600),
  };
}

/** Season and slot of an event id; undefined for ids the catalogue never issues. */
export function eventSlotOf(eventId: number): { season: number; slot: number } | undefined {
  const offset = eventId - EVENT_ID_BASE;
  if (!Number.isSafeInteger(offset) || offset < 0) return undefined;
  return { season: Math.floor(offset / EVENTS_PER_SEASON), slot: offset % EVENTS_PER_SEASON };
}

/** Id of the event's show on `day` (one show per event and day). */
export function showIdOf(plan: EventPlan, day: number): number {
  return SHOW_ID_BASE + (plan.season * EVENTS_PER_SEASON + plan.slot) * SEASON_DAYS + (day - plan.firstDay);
}

/** Start of the event's show on `day`, unix seconds (the production's local hour in the city). */
export function showStartUnix(plan: EventPlan, day: number): number {
  return mskMidnightUnix(day) + (plan.production.localHour - (plan.city.utcOffsetHours - 3)) * 3600;
}

/** Day numbers on which the event has a show. */
export function showDaysOf(plan: EventPlan): number[] {
  if (!plan.selling) return DELETED_EVENT_SHOW_DAYS.map((d) => plan.firstDay + d);
  return Array.from({ length: SEASON_DAYS }, (_, i) => plan.firstDay + i);
}

function priceObject(id: number, rub: number, colorTheme: string) {
  return { id, default_price: rub, color_theme: colorTheme, modifiers: [] as unknown[] };
}

/** The `Event` object QTickets would return for this plan (pure; deleted drafts carry `deleted_at`). */
export function renderEvent(plan: EventPlan): Record<string, unknown> {
  const { eventId, city, production } = plan;
  const name = plan.selling
    ? `${production.title} (${city.name})`
    : `Удалить - ${production.title} (${city.name})`;
  const slug = `${production.slug}-${city.slug}-${dateOfDayNumber(plan.firstDay).slice(0, 7)}`;
  const shows = showDaysOf(plan).map((day) => {
    const id = showIdOf(plan, day);
    const start = showStartUnix(plan, day);
    return {
      id,
      name: '',
      is_active: 1,
      sale_start_date: null,
      sale_finish_date: mskIso(start),
      open_date: mskIso(start - 3600),
      start_date: mskIso(start),
      finish_date: mskIso(start + 2 * 3600),
      scheme_properties: { admin: {}, zones: {}, seats: {} },
      prices: [priceObject(id * 2, plan.adultRub, '1'), priceObject(id * 2 + 1, plan.childRub, '2')],
      min_price: priceObject(id * 2 + 1, plan.childRub, '2'),
      max_price: priceObject(id * 2, plan.adultRub, '1'),
      created_at: mskIso(plan.createdUnix),
      updated_at: mskIso(plan.createdUnix),
      deleted_at: null,
    };
  });
  return {
    id: eventId,
    is_active: plan.slot === EVENTS_PER_SEASON - 1 ? 0 : 1,
    name,
    scheme_id: 11707,
    currency_id: 'RUB',
    place_name: production.placeName,
    place_address: production.placeAddress,
    place_description: '',
    city_id: city.id,
    description: `${production.title}. Гастроли в городе ${city.name}.`,
    site_url: 'http://example-shop.ru/',
    external_id: null,
    ticket_id: 35,
    mail_template_id: 31,
    age: production.age,
    shows,
    payments: plan.selling
      ? [
          {
            id: 41057,
            is_active: true,
            name: 'ИП Сидоров И.И.',
            handler: 'payanyway',
            agree_url: `https://qtickets.ru/legal/example/12857?event=${eventId}`,
          },
        ]
      : [],
    poster: {
      id: 80_000 + eventId,
      content_type: 'image/jpeg',
      file_size: 91_449,
      url: `https://qtickets.ru/storage/app/uploads/public/${eventId}.jpg`,
    },
    event_type_id: production.eventTypeId,
    city: { id: city.id, name: city.name, timezone: city.timezone },
    ticket: { id: 35, is_active: 1, name: 'Системный шаблон' },
    mail_template: { id: 31, is_active: 1, name: 'Системный шаблон' },
    slug,
    place_coordinates: city.coordinates,
    url: `https://${city.slug}.qtickets.events/${eventId}-${slug}`,
    created_at: mskIso(plan.createdUnix),
    updated_at: mskIso(plan.deletedUnix ?? plan.createdUnix),
    deleted_at: plan.deletedUnix === null ? null : mskIso(plan.deletedUnix),
  };
}
