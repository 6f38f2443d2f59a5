-- Daily marts read by DataLens, partitioned by day: a build writes a tmp table and swaps each day
-- in with REPLACE PARTITION, so readers never see a half-built day.

CREATE TABLE IF NOT EXISTS zakaz.dm_vk_ads_daily {{ON_CLUSTER}} (
    stat_date Date,                  -- MSK date
    city LowCardinality(String),     -- canonical city; 'Не определён' when UTM and names name none
    impressions UInt64,
    clicks UInt64,
    spend Decimal(18, 2),            -- rubles
    banners UInt32,                  -- banners with at least one impression that day
    ad_plans UInt32,
    built_at DateTime('UTC'),
    run_id UUID
) ENGINE = {{ENGINE:MergeTree}}
PARTITION BY stat_date
ORDER BY (stat_date, city);

CREATE TABLE IF NOT EXISTS zakaz.dm_sales_daily {{ON_CLUSTER}} (
    sale_date Date,                  -- MSK date: of payment for sales, of the refund for refunds
    city LowCardinality(String),
    event_id UInt64,
    event_name String,
    orders UInt64,                   -- paid orders with at least one ticket not cancelled
    tickets_sold UInt64,             -- tickets paid that day (not cancelled)
    tickets_refunded UInt64,         -- tickets refunded that day
    revenue Decimal(18, 2),          -- rubles paid that day for those tickets
    refunds_amount Decimal(18, 2),   -- rubles refunded that day
    net_revenue Decimal(18, 2),      -- revenue - refunds_amount; negative on a mass-refund day
    built_at DateTime('UTC'),
    run_id UUID
) ENGINE = {{ENGINE:MergeTree}}
PARTITION BY sale_date
ORDER BY (sale_date, city, event_id);

-- ROI: VK spend against ticket sales per MSK day and city.
CREATE OR REPLACE VIEW zakaz.v_roi_daily {{ON_CLUSTER}} AS
SELECT
    day,
    city,
    impressions,
    clicks,
    spend,
    orders,
    tickets_sold,
    revenue,
    refunds_amount,
    net_revenue,
    if(spend > 0, toFloat64(net_revenue) / toFloat64(spend), NULL) AS roas,          -- rubles of net revenue per ruble spent
    if(tickets_sold > 0, toFloat64(spend) / tickets_sold, NULL) AS spend_per_ticket  -- rubles
FROM
(
    SELECT
        day,
        city,
        sum(vk_impressions) AS impressions,
        sum(vk_clicks) AS clicks,
        sum(vk_spend) AS spend,
        sum(s_orders) AS orders,
        sum(s_tickets) AS tickets_sold,
        sum(s_revenue) AS revenue,
        sum(s_refunds) AS refunds_amount,
        sum(s_net) AS net_revenue
    FROM
    (
        SELECT stat_date AS day, city, impressions AS vk_impressions, clicks AS vk_clicks, spend AS vk_spend,
               toUInt64(0) AS s_orders, toUInt64(0) AS s_tickets,
               toDecimal64(0, 2) AS s_revenue, toDecimal64(0, 2) AS s_refunds, toDecimal64(0, 2) AS s_net
        FROM zakaz.dm_vk_ads_daily
        UNION ALL
        SELECT sale_date, city, toUInt64(0), toUInt64(0), toDecimal64(0, 2),
               orders, tickets_sold, revenue, refunds_amount, net_revenue
        FROM zakaz.dm_sales_daily
    )
    GROUP BY day, city
);

-- One row for the MSK yesterday: what DataLens and the healthcheck look at first.
CREATE OR REPLACE VIEW meta.v_quality_last_day {{ON_CLUSTER}} AS
SELECT
    toDate(now(), '{{TIMEZONE}}') - 1 AS day,
    sumIf(n, src = 'sales') AS sales_rows,
    sumIf(money, src = 'sales') AS sales_revenue,
    sumIf(net, src = 'sales') AS sales_net_revenue,
    sumIf(n, src = 'vk') AS vk_rows,
    sumIf(money, src = 'vk') AS vk_spend
FROM
(
    SELECT 'sales' AS src, count() AS n, sum(revenue) AS money, sum(net_revenue) AS net
    FROM zakaz.dm_sales_daily WHERE sale_date = toDate(now(), '{{TIMEZONE}}') - 1
    UNION ALL
    SELECT 'vk', count(), sum(spend), toDecimal128(0, 2)
    FROM zakaz.dm_vk_ads_daily WHERE stat_date = toDate(now(), '{{TIMEZONE}}') - 1
);
