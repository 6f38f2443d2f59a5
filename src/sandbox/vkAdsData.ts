/**
 * Seeded, deterministic data of the VK Ads sandbox: an account of ad plans, ad groups and banners
 * shaped like the recorded responses (reference §1.5, test fixtures `vk_ads/`), and daily `base`
 * statistics that are a pure function of (seed, banner, date) for any date, so the same window
 * gives the same numbers across process restarts. No `Math.random`: a small hash + PRNG.
 * Wire format: https://ads.vk.com/doc/api/info/Statistics (money as decimal strings).
 */

/** Switches that bend the generated numbers for a scenario (alerting, anomalies, …). */
export interface VkSandboxScenarios {
  /** MSK date `YYYY-MM-DD` on which every banner's spend is multiplied by `spendSpikeFactor`. */
  spendSpikeDate?: string | undefined;
  /** Spend multiplier on `spendSpikeDate`. @default 5 */
  spendSpikeFactor?: number | undefined;
}

/** Options of {@link buildVkSandboxData}. */
export interface VkSandboxDataOptions {
  /** Seed of every generated number. @default 1 */
  seed?: number | undefined;
  /** Banners per ad group (raise it to get several statistics batches of 200). @default 4 */
  bannersPerGroup?: number | undefined;
  scenarios?: VkSandboxScenarios | undefined;
}

/** `active | blocked | deleted`, as VK spells object statuses. */
export type VkObjectStatus = 'active' | 'blocked' | 'deleted';

/** An ad plan with every field the sandbox can return. */
export interface SandboxAdPlan {
  id: number;
  name: string;
  status: VkObjectStatus;
  created: string;
  updated: string;
  objective: string;
  budget_limit_day: string;
  date_start: string;
  event_limit: number;
  uniq_shows_limit: number;
  uniq_shows_period: string;
}

/** An ad group with every field the sandbox can return. */
export interface SandboxAdGroup {
  id: number;
  name: string;
  status: VkObjectStatus;
  ad_plan_id: number;
  package_id: number;
  enable_utm: boolean;
  utm: string | null;
  created: string;
  updated: string;
  budget_limit_day: string;
}

/** A banner with every field the sandbox can return, plus the generator's hidden parameters. */
export interface SandboxBanner {
  id: number;
  name: string;
  status: VkObjectStatus;
  ad_group_id: number;
  moderation_status: string;
  ord_marker: string;
  created: string;
  updated: string;
  urls: Record<
    string,
    { id: number; url: string; url_types: string[]; url_object_id: null; url_object_type: null }
  >;
  /** Not on the wire: the statistics generator's parameters. */
  gen: BannerGenParams;
}

/** Per-banner parameters of the statistics generator. */
export interface BannerGenParams {
  /** Typical shows per day. */
  baseShows: number;
  /** Click-through rate, clicks per 10 000 shows. */
  ctrPer10k: number;
  /** Cost per 1000 shows, kopecks. */
  cpmKop: number;
  /** Share of days with no delivery at all, 0..1. */
  zeroDayShare: number;
  /** Goals per click, 0..1. */
  goalsPerClick: number;
}

/** The whole generated account. */
export interface VkSandboxData {
  seed: number;
  scenarios: VkSandboxScenarios;
  adPlans: SandboxAdPlan[];
  adGroups: SandboxAdGroup[];
  banners: SandboxBanner[];
  /** Banner ids guaranteed to spend every day (one per city in {@link ANCHOR_CITIES}). */
  anchorBannerIds: number[];
}

/** One banner's `base` numbers for one day. Money in kopecks (integers), so sums stay exact. */
export interface DayMetrics {
  shows: number;
  clicks: number;
  goals: number;
  vkGoals: number;
  spentKop: number;
}

/** Cities with a banner that spends every day (the marts are checked per day and city). */
export const ANCHOR_CITIES = ['Москва', 'Санкт-Петербург', 'Томск', 'Барнаул'] as const;

// ---------------------------------------------------------------------------------------------
// Hash and PRNG

/** 32-bit hash of the parts (FNV-1a + murmur3 finalizer). */
export function hash32(...parts: Array<string | number>): number {
  let h = 0x811c9dc5;
  const text = parts.join('|');
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** mulberry32: a tiny seeded PRNG giving floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---------------------------------------------------------------------------------------------
// The account skeleton

const AUTO_UTM = 'utm_source=vk_ads&utm_medium=cpc&utm_campaign={{campaign_id}}&utm_content={{banner_id}}';

interface GroupSkeleton {
  name: string;
  status?: VkObjectStatus;
  enableUtm: boolean;
  utm: string | null;
  /** Landing page without query. */
  landing: string;
  /** Query the first banner's link carries (the others have none or their own). */
  bannerQuery?: string;
  /** The first banner of this group spends every day. */
  anchor?: boolean;
}

interface PlanSkeleton {
  name: string;
  status: VkObjectStatus;
  objective: string;
  groups: GroupSkeleton[];
}

const PLANS: PlanSkeleton[] = [
  {
    name: 'Щелкунчик Москва',
    status: 'active',
    objective: 'traffic',
    groups: [
      {
        name: 'Москва 25-45',
        enableUtm: true,
        utm: `${AUTO_UTM}&utm_term=msk`,
        landing: 'https://irs-show.ru/moscow/shchelkunchik',
        bannerQuery: 'utm_source=vk&utm_campaign=autumn_msk',
        anchor: true,
      },
      {
        name: 'Москва родители ретаргет',
        enableUtm: false,
        utm: null,
        landing: 'https://irs-show.ru/moscow/shchelkunchik',
        bannerQuery: 'utm_source=vk&utm_medium=retarget&utm_campaign=shchelkunchik_moscow',
      },
    ],
  },
  {
    name: 'Холодное сердце СПб',
    status: 'active',
    objective: 'traffic',
    groups: [
      {
        name: 'СПб широкая',
        enableUtm: true,
        utm: `${AUTO_UTM}&utm_term=spb`,
        landing: 'https://irs-show.ru/spb/holodnoe-serdce',
        anchor: true,
      },
      {
        name: 'Санкт-Петербург мамы 25-40',
        enableUtm: true,
        utm: 'utm_source=vk_ads&utm_medium=cpc&utm_campaign={{ad_plan_id}}_{{campaign_id}}&utm_content={{banner_id}}',
        landing: 'https://irs-show.ru/spb/holodnoe-serdce',
        bannerQuery: 'utm_term=saint_petersburg',
      },
    ],
  },
  {
    name: 'Корпорация кубиков Казань',
    status: 'active',
    objective: 'traffic',
    groups: [
      {
        name: 'Казань 3-10 лет',
        enableUtm: true,
        utm: `${AUTO_UTM}&utm_term=kazan`,
        landing: 'https://irs-show.ru/kazan/kubiki',
      },
      {
        name: 'Казань look-alike',
        status: 'blocked',
        enableUtm: true,
        utm: AUTO_UTM,
        landing: 'https://irs-show.ru/kazan/kubiki',
      },
    ],
  },
  {
    name: 'Щелкунчик NEW Томск',
    status: 'active',
    objective: 'traffic',
    groups: [
      {
        name: 'Томск широкая',
        enableUtm: true,
        utm: `${AUTO_UTM}&utm_term=tomsk`,
        landing: 'https://irs-show.ru/tomsk/shchelkunchik-new',
        anchor: true,
      },
      // enable_utm without a template: VK applies its automatic template.
      {
        name: 'Томск ретаргет',
        enableUtm: true,
        utm: null,
        landing: 'https://irs-show.ru/tomsk/shchelkunchik-new',
      },
    ],
  },
  {
    name: 'Холодное сердце Барнаул',
    status: 'active',
    objective: 'traffic',
    groups: [
      {
        name: 'Барнаул 25-45',
        enableUtm: true,
        utm: 'utm_source=vk_ads&utm_medium=cpc&utm_campaign=frozen_barnaul&utm_content={{banner_id}}',
        landing: 'https://irs-show.ru/barnaul/holodnoe-serdce',
        anchor: true,
      },
    ],
  },
  {
    name: 'Кухни все города',
    status: 'active',
    objective: 'leadads',
    groups: [
      {
        name: 'Екатеринбург 30-55',
        enableUtm: true,
        utm: `${AUTO_UTM}&utm_term=ekb`,
        landing: 'https://example-kuhni.ru/ekaterinburg',
      },
      {
        name: 'Новосибирск 30-55',
        enableUtm: false,
        utm: null,
        landing: 'https://example-kuhni.ru/novosibirsk',
        bannerQuery: 'utm_source=vk&utm_medium=cpc&utm_campaign=kitchen_nsk',
      },
      {
        // {{geo}} is only known at click time: the link's own utm_term shows through.
        name: 'Регионы',
        enableUtm: true,
        utm: 'utm_source=vk_ads&utm_medium=cpc&utm_campaign={{campaign_name}}&utm_term={{geo}}',
        landing: 'https://example-kuhni.ru/regiony',
        bannerQuery: 'utm_term=nizhny_novgorod',
      },
    ],
  },
  {
    name: 'Кухни все города',
    status: 'blocked',
    objective: 'leadads',
    groups: [
      {
        name: 'Копия широкая',
        status: 'blocked',
        enableUtm: true,
        utm: AUTO_UTM,
        landing: 'https://example-kuhni.ru/',
      },
    ],
  },
  {
    name: 'пост на охват Шатура',
    status: 'deleted',
    objective: 'reach',
    groups: [
      {
        name: 'широкая',
        status: 'deleted',
        enableUtm: true,
        utm: AUTO_UTM,
        landing: 'https://example-kuhni.ru/shatura',
      },
    ],
  },
];

const BANNER_KINDS = ['Креатив', 'Видео 15с', 'Карусель', 'Баннер 1080x607', 'Сторис', 'Текст+картинка'];

function bannerStatus(groupStatus: VkObjectStatus, index: number): VkObjectStatus {
  if (groupStatus === 'deleted') return 'deleted';
  if (index < 2) return 'active';
  if (index % 5 === 4) return 'deleted';
  if (index % 5 === 2) return 'blocked';
  return 'active';
}

/**
 * Builds the account: 8 ad plans (one deleted, one blocked, two named "Кухни все города"), 15 ad
 * groups with UTM templates (some with a city slug, some `enable_utm: false, utm: null`) and
 * `bannersPerGroup` banners per group (active, blocked, deleted; some links carry their own utm_*).
 * Ids, names and structure are fixed; the seed drives the statistics parameters.
 */
export function buildVkSandboxData(options: VkSandboxDataOptions = {}): VkSandboxData {
  const seed = options.seed ?? 1;
  const perGroup = Math.max(1, Math.floor(options.bannersPerGroup ?? 4));
  const adPlans: SandboxAdPlan[] = [];
  const adGroups: SandboxAdGroup[] = [];
  const banners: SandboxBanner[] = [];
  const anchorBannerIds: number[] = [];
  let groupSeq = 0;
  let bannerSeq = 0;
  PLANS.forEach((plan, p) => {
    const planId = 14253674 + 17 * p;
    adPlans.push({
      id: planId,
      name: plan.name,
      status: plan.status,
      created: `2025-0${1 + (p % 8)}-1${p % 10} 10:2${p % 10}:00`,
      updated: `2025-10-0${1 + (p % 9)} 09:00:00`,
      objective: plan.objective,
      budget_limit_day: String(1500 + 500 * p),
      date_start: `2025-0${1 + (p % 8)}-15`,
      event_limit: -1,
      uniq_shows_limit: -1,
      uniq_shows_period: 'day',
    });
    for (const group of plan.groups) {
      const groupId = 107921416 + groupSeq++;
      const groupStatus: VkObjectStatus = plan.status === 'deleted' ? 'deleted' : (group.status ?? 'active');
      adGroups.push({
        id: groupId,
        name: group.name,
        status: groupStatus,
        ad_plan_id: planId,
        package_id: groupSeq % 4 === 0 ? 3194 : 3127,
        enable_utm: group.enableUtm,
        utm: group.utm,
        created: `2025-0${1 + (p % 8)}-1${p % 10} 11:00:00`,
        updated: `2025-10-1${groupSeq % 10} 08:30:00`,
        budget_limit_day: '0',
      });
      for (let i = 0; i < perGroup; i++) {
        const bannerId = 179270031 + 7 * bannerSeq++;
        const status = bannerStatus(groupStatus, i);
        const anchor = group.anchor === true && i === 0 && status === 'active';
        if (anchor) anchorBannerIds.push(bannerId);
        const query = i === 0 ? group.bannerQuery : i % 3 === 2 ? 'utm_source=vk&utm_medium=cpc' : undefined;
        const r = mulberry32(hash32(seed, 'banner', bannerId));
        banners.push({
          id: bannerId,
          name: `${BANNER_KINDS[i % BANNER_KINDS.length]} ${i + 1}`,
          status,
          ad_group_id: groupId,
          moderation_status: status === 'deleted' ? 'banned' : 'allowed',
          ord_marker: `Kra23${(bannerId % 100000).toString(36)}`,
          created: `2025-0${1 + (p % 8)}-2${i % 8} 12:00:00`,
          updated: `2025-10-2${i % 10} 12:00:00`,
          // Every 7th banner has no link at all (a lead form), so `urls` is empty.
          urls:
            bannerSeq % 7 === 0
              ? {}
              : {
                  primary: {
                    id: 55401133 + bannerSeq,
                    url: query ? `${group.landing}?${query}` : group.landing,
                    url_types: ['external'],
                    url_object_id: null,
                    url_object_type: null,
                  },
                },
          gen: {
            baseShows: 1500 + Math.floor(r() * 16000),
            ctrPer10k: 50 + Math.floor(r() * 130),
            cpmKop: 12000 + Math.floor(r() * 20000),
            zeroDayShare: anchor ? 0 : status === 'blocked' ? 0.6 : 0.05 + r() * 0.25,
            goalsPerClick: 0.02 + r() * 0.08,
          },
        });
      }
    }
  });
  return { seed, scenarios: { ...options.scenarios }, adPlans, adGroups, banners, anchorBannerIds };
}

// ---------------------------------------------------------------------------------------------
// Daily statistics

/** Monday..Sunday demand: family shows sell on weekends. Index = `Date#getUTCDay()` (0 = Sunday). */
const WEEKDAY_FACTOR = [1.25, 0.85, 0.9, 0.95, 1.0, 1.15, 1.35];
/** January..December: the New Year season is high, summer is low. */
const MONTH_FACTOR = [1.3, 0.95, 0.95, 0.9, 0.85, 0.7, 0.7, 0.75, 0.95, 1.05, 1.15, 1.5];

const ZERO: DayMetrics = { shows: 0, clicks: 0, goals: 0, vkGoals: 0, spentKop: 0 };

/**
 * One banner's numbers for one date: a pure function of (seed, banner, date, scenarios).
 * @param date `YYYY-MM-DD` (any date; the server decides which dates it serves).
 */
export function bannerDayMetrics(data: VkSandboxData, banner: SandboxBanner, date: string): DayMetrics {
  const g = banner.gen;
  const r = mulberry32(hash32(data.seed, 'day', banner.id, date));
  if (r() < g.zeroDayShare) return { ...ZERO };
  const day = new Date(`${date}T00:00:00Z`);
  const season = (WEEKDAY_FACTOR[day.getUTCDay()] ?? 1) * (MONTH_FACTOR[day.getUTCMonth()] ?? 1);
  const shows = Math.max(1, Math.round(g.baseShows * season * (0.75 + 0.5 * r())));
  const clicks = Math.round(((shows * g.ctrPer10k) / 10_000) * (0.8 + 0.4 * r()));
  let spentKop = Math.round(((shows * g.cpmKop) / 1000) * (0.9 + 0.2 * r()));
  const goals = Math.round(clicks * g.goalsPerClick * (0.5 + r()));
  const vkGoals = goals + Math.floor(r() * 3);
  const { spendSpikeDate, spendSpikeFactor } = data.scenarios;
  if (spendSpikeDate !== undefined && date === spendSpikeDate)
    spentKop = Math.round(spentKop * (spendSpikeFactor ?? 5));
  return { shows, clicks, goals, vkGoals, spentKop };
}

/** Element-wise sum. */
export function addMetrics(a: DayMetrics, b: DayMetrics): DayMetrics {
  return {
    shows: a.shows + b.shows,
    clicks: a.clicks + b.clicks,
    goals: a.goals + b.goals,
    vkGoals: a.vkGoals + b.vkGoals,
    spentKop: a.spentKop + b.spentKop,
  };
}

/** All-zero metrics. */
export function zeroMetrics(): DayMetrics {
  return { ...ZERO };
}

/** Kopecks as VK writes decimals: "2841.57", "15.2", "0" (trailing zeros dropped). */
export function kopToVkDecimal(kop: number): string {
  const sign = kop < 0 ? '-' : '';
  const abs = Math.abs(Math.round(kop));
  const rub = Math.floor(abs / 100);
  const frac = String(abs % 100)
    .padStart(2, '0')
    .replace(/0+$/, '');
  return `${sign}${rub}${frac ? `.${frac}` : ''}`;
}

/** The `base` object of a statistics row or total, in VK's wire format. */
export function baseMetricsJson(m: DayMetrics): Record<string, unknown> {
  const per = (numKop: number, den: number) => (den > 0 ? kopToVkDecimal(Math.round(numKop / den)) : '0');
  return {
    shows: m.shows,
    clicks: m.clicks,
    goals: m.goals,
    spent: kopToVkDecimal(m.spentKop),
    not_ad_spent: '0',
    cpm: per(m.spentKop * 1000, m.shows),
    cpc: per(m.spentKop, m.clicks),
    cpa: per(m.spentKop, m.goals),
    ctr: m.shows > 0 ? (m.clicks / m.shows) * 100 : 0,
    cr: m.clicks > 0 ? (m.goals / m.clicks) * 100 : 0,
    vk: {
      goals: m.vkGoals,
      cpa: per(m.spentKop, m.vkGoals),
      cr: m.clicks > 0 ? (m.vkGoals / m.clicks) * 100 : 0,
    },
  };
}
