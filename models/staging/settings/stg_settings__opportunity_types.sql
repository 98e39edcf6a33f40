{{ merge_org_mapping('opportunity_types') }}
