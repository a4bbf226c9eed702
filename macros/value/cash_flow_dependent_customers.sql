{#-
    The customers whose monthly cash flows (int_customer_cash_flows_monthly) can change although their own
    data did not, for its incremental runs (macros/incremental/customer_months.sql recomputes them whole):
      - the referrers named by any version of a changed customer's record: a referred customer's orders in
        their first referral_credit_months months are their referrer's referral gain, and a version can
        name another referrer;
      - the customers whose acquisition spend (their channel-month's spend shared by the customers it
        acquired) is not the stored one: a customer acquired late into an old month, a restated spend
        row; and acquired customers without a stored acquisition-month row (acquired since).
-#}
{% macro cash_flow_dependent_customers() -%}
    select versions.referred_by_customer_id as customer_id
    from {{ ref('base_crm__customers') }} as versions
    where
        versions.referred_by_customer_id is not null
        and versions.customer_id in ({{ changed_customers() }})
    union
    select acquisitions.customer_id
    from {{ ref('int_customer_acquisitions') }} as acquisitions
    left join {{ ref('int_marketing_spend_allocated') }} as spend_allocated
        on
            acquisitions.acquisition_channel = spend_allocated.acquisition_channel
            and acquisitions.acquisition_month_start = spend_allocated.month_start_date
    left join {{ this }} as stored
        on
            acquisitions.customer_id = stored.customer_id
            and acquisitions.acquisition_month_start = stored.month_start_date
    where
        acquisitions.is_acquired
        and (
            stored.customer_id is null
            or stored.acquisition_spend_cost <> cast(
                coalesce(spend_allocated.spend_per_customer_acquired, 0) as {{ value_amount_type() }}
            )
        )
{%- endmacro %}
