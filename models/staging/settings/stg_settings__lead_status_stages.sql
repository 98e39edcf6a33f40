{{ merge_org_mapping('lead_status_stages') }}
