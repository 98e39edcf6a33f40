{{ merge_org_mapping('rep_roles') }}
