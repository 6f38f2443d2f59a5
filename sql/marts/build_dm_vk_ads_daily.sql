-- zakaz.dm_vk_ads_daily for one window: VK spend per MSK day and city, from staging.
-- {{TARGET}} is the run's tmp table; the runner swaps each day into the mart.
INSERT INTO {{TARGET}} (stat_date, city, impressions, clicks, spend, banners, ad_plans, built_at, run_id)
SELECT
    stat_date,
    if(city = '', 'Не определён', city) AS mart_city,
    sum(impressions),
    sum(clicks),
    sum(spend),
    uniqExactIf(banner_id, impressions > 0),
    uniqExactIf(ad_plan_id, impressions > 0),
    now(),
    {run_id:UUID}
FROM zakaz.stg_vk_ads_daily
WHERE stat_date BETWEEN {from_date:Date} AND {to_date:Date}
GROUP BY stat_date, mart_city
