{#-
    The age band of an open opportunity for the historical-conversion forecast: its age in days
    (as_of_date - created_date) against the setting forecast_age_band_days (upper bounds in days,
    comma-separated, ascending; default 30, 90, 180), labelled '0-30', '31-90', '91-180', '181+'.
    A null age is band 'unknown' (it still learns and gets a rate of its own, never a guess).
-#}
{% macro forecast_age_band(age_days) %}
    {%- set bounds = [] -%}
    {%- for item in list_setting('forecast_age_band_days') -%}
        {%- if not modules.re.match('^[0-9]+$', item) -%}
            {{ exceptions.raise_compiler_error(
                "Setting forecast_age_band_days (REVOPS_FORECAST_AGE_BAND_DAYS) must be whole "
                ~ "numbers of days, comma-separated, got '" ~ item ~ "'"
            ) }}
        {%- endif -%}
        {%- do bounds.append(item | int) -%}
    {%- endfor -%}
    {%- if bounds != (bounds | sort) -%}
        {{ exceptions.raise_compiler_error(
            "Setting forecast_age_band_days (REVOPS_FORECAST_AGE_BAND_DAYS) must be ascending"
        ) }}
    {%- endif -%}
    case
        when {{ age_days }} is null then 'unknown'
        {%- set ns = namespace(lower=0) %}
        {%- for bound in bounds %}
        when {{ age_days }} <= {{ bound }} then '{{ ns.lower }}-{{ bound }}'
        {%- set ns.lower = bound + 1 %}
        {%- endfor %}
        else '{{ ns.lower }}+'
    end
{%- endmacro %}
