{{ merge_org_mapping('segment_bands') }}
