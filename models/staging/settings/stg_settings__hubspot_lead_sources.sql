{{ merge_org_mapping('hubspot_lead_sources') }}
