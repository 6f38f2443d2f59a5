-- Staging tables, one row per upstream record, partitioned by business day so that a fetch
-- replaces exactly its window (tmp table + REPLACE PARTITION per day). Money is Decimal(18,2)
-- rubles; dates are MSK calendar dates; instants are DateTime('UTC').

CREATE DATABASE IF NOT EXISTS zakaz {{ON_CLUSTER}};

-- VK Ads API v2 statistics/banners/day.json (base metrics) joined with banner, ad group, ad plan.
CREATE TABLE IF NOT EXISTS zakaz.stg_vk_ads_daily {{ON_CLUSTER}} (
    stat_date Date,
    ad_plan_id UInt64,
    ad_plan_name String,
    ad_group_id UInt64,
    ad_group_name String,
    banner_id UInt64,
    banner_name String,
    impressions UInt64,
    clicks UInt64,
    spend Decimal(18, 2),            -- rubles (base.spent)
    utm_source String,
    utm_medium String,
    utm_campaign String,
    utm_content String,
    utm_term String,
    landing_url String,
    city LowCardinality(String),     -- canonical city from zakaz.dim_city_alias, '' when unknown
    run_id UUID,
    loaded_at DateTime('UTC')
) ENGINE = {{ENGINE:MergeTree}}
PARTITION BY stat_date
ORDER BY (stat_date, ad_plan_id, ad_group_id, banner_id);

-- QTickets REST v1 orders paid in the window: one row per ticket line (basket).
CREATE TABLE IF NOT EXISTS zakaz.stg_qtickets_sales {{ON_CLUSTER}} (
    sale_date Date,                  -- MSK date of payed_at
    payed_at DateTime('UTC'),
    order_id UInt64,
    basket_id UInt64,
    event_id UInt64,
    event_name String,
    show_id UInt64,
    event_date Nullable(Date),       -- the show's MSK date
    city LowCardinality(String),     -- canonical city
    city_raw String,                 -- event.city.name as QTickets spells it
    price Decimal(18, 2),            -- rubles, after discounts
    quantity UInt32,
    status LowCardinality(String),   -- 'live' | 'refunded' | 'cancelled'
    refunded_at Nullable(DateTime('UTC')),
    refund_date Nullable(Date),      -- MSK date of refunded_at
    refund_amount Decimal(18, 2),    -- rubles
    currency LowCardinality(String),
    utm_source String,
    utm_medium String,
    utm_campaign String,
    utm_content String,
    utm_term String,
    run_id UUID,
    loaded_at DateTime('UTC')
) ENGINE = {{ENGINE:MergeTree}}
PARTITION BY sale_date
ORDER BY (sale_date, event_id, order_id, basket_id);
