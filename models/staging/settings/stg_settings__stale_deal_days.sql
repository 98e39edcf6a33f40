{{ merge_org_mapping('stale_deal_days') }}
