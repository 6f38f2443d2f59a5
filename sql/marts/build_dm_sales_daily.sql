-- zakaz.dm_sales_daily for one window, from staging. Sales count on the MSK day of payment,
-- refunds on the MSK day of the refund (so a mass-refund day shows a negative net revenue);
-- cancelled tickets count nowhere. {{TARGET}} is the run's tmp table.
INSERT INTO {{TARGET}}
    (sale_date, city, event_id, event_name, orders, tickets_sold, tickets_refunded,
     revenue, refunds_amount, net_revenue, built_at, run_id)
SELECT
    day,
    city,
    event_id,
    any(event_name),
    uniqExactIf(order_id, kind = 'sale'),
    sumIf(qty, kind = 'sale'),
    sumIf(qty, kind = 'refund'),
    sumIf(amount, kind = 'sale') AS revenue_rub,
    sumIf(amount, kind = 'refund') AS refunds_rub,
    revenue_rub - refunds_rub,
    now(),
    {run_id:UUID}
FROM
(
    SELECT 'sale' AS kind, sale_date AS day, city, event_id, event_name, order_id,
           toUInt64(quantity) AS qty, price AS amount
    FROM zakaz.stg_qtickets_sales
    WHERE sale_date BETWEEN {from_date:Date} AND {to_date:Date} AND status != 'cancelled'
    UNION ALL
    SELECT 'refund', assumeNotNull(refund_date), city, event_id, event_name, order_id,
           toUInt64(quantity), refund_amount
    FROM zakaz.stg_qtickets_sales
    WHERE status = 'refunded' AND refund_date BETWEEN {from_date:Date} AND {to_date:Date}
)
GROUP BY day, city, event_id
