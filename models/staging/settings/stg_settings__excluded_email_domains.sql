{{ merge_org_mapping('excluded_email_domains') }}
