select
    cast(d as date) as as_of_date,
    true as is_month_end,
    false as is_quarter_end,
    false as is_horizon_date,
    false as is_recent_monday
from (select unnest(generate_series(date '2023-01-31', date '2025-11-30', interval 1 month)) as d)
