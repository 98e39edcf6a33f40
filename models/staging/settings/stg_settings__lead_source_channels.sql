{{ merge_org_mapping('lead_source_channels') }}
