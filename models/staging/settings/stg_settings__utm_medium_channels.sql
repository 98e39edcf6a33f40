{{ merge_org_mapping('utm_medium_channels') }}
