{#- A table: the stg view, the rejected rows and the reconciliation all read it, and the version
    window over a million orders should run once per build, not once per reader. Incremental by raw row (dbt_project.yml, macros/staging/staging_incremental.sql). -#}

with

-- the one documented join of staging: an order's disposition depends on the staged customers
-- (unknown_customer, before_customer_created)
staged_customers as (

    select
        customer_id as known_customer_id,
        created_at as customer_created_at
    from {{ ref('base_crm__customers') }}
    where row_disposition = 'staged'

),

{%- if is_incremental() %}
-- an incremental run re-decides the rows of new and stale keys only (macros/staging/staging_incremental.sql)
keys_to_decide as (

    {{ staging_keys_to_decide(source('crm', 'orders'), 'order_id') }}

),
{%- endif %}

source as (

    select * from {{ source('crm', 'orders') }}
    {%- if is_incremental() %}
    where {{ staging_rows_of_keys('order_id', 'keys_to_decide') }}
    {%- endif %}

),

-- trimmed once: blank text is a missing value, and the parsers below read the trimmed text
trimmed as (

    select
        *,
        {{ staging_text('gross_amount') }} as gross_amount_text,
        {{ staging_text('discount_amount') }} as discount_amount_text,
        {{ staging_text('cost_amount') }} as cost_amount_text,
        {{ staging_text('ordered_at') }} as ordered_at_text,
        {{ staging_text('updated_at') }} as updated_at_text
    from source

),

renamed as (

    select
        -- ids
        {{ staging_text('order_id') }} as order_id,
        {{ staging_text('customer_id') }} as customer_id,

        -- categories
        {{ staging_enum('status') }} as status,
        {{ staging_enum('product_category') }} as product_category,
        {{ staging_enum('sales_channel') }} as sales_channel,

        -- numerics: trimmed text kept beside the parsed value, to tell blank from unparseable
        gross_amount_text,
        {{ staging_try_money('gross_amount_text') }} as gross_amount,
        discount_amount_text,
        {{ staging_try_money('discount_amount_text') }} as provided_discount_amount,
        cost_amount_text,
        {{ staging_try_money('cost_amount_text') }} as provided_cost_amount,

        -- timestamps
        ordered_at_text,
        {{ staging_try_timestamp('ordered_at_text') }} as ordered_at,
        updated_at_text,
        {{ staging_try_timestamp('updated_at_text') }} as updated_at,

        -- load metadata
        _raw_row_id,
        _file_name,
        _file_row_number,
        _file_sha256,
        _loaded_at,
        {{ staging_utc_to_business('_loaded_at') }} as loaded_at_business

    from trimmed

),

pre_versioned as (

    select
        *,
        case
            when order_id is null then 'missing_required_value'
            when {{ staging_unparseable('updated_at_text', 'updated_at') }} then 'unparseable_timestamp'
        end as pre_version_reason
    from renamed

),

versioned as (

    select
        *,
        {{ staging_version_columns(['order_id']) }}
    from pre_versioned

),

with_customer as (

    select
        versioned.*,
        staged_customers.known_customer_id,
        staged_customers.customer_created_at
    from versioned
    left join staged_customers
        on versioned.customer_id = staged_customers.known_customer_id

),

judged as (

    select
        *,
        {{ staging_rejection_reason([
            ['missing_required_value', [
                'customer_id is null', 'ordered_at_text is null', 'status is null', 'gross_amount_text is null',
            ]],
            ['unparseable_timestamp', staging_unparseable('ordered_at_text', 'ordered_at')],
            ['unparseable_number', [
                staging_unparseable('gross_amount_text', 'gross_amount'),
                staging_unparseable('discount_amount_text', 'provided_discount_amount'),
                staging_unparseable('cost_amount_text', 'provided_cost_amount'),
            ]],
            ['invalid_enum_value', staging_not_in('status', crm_enum_values('orders', 'status'))],
            ['negative_amount', [
                'gross_amount < 0', 'provided_discount_amount < 0', 'provided_cost_amount < 0',
            ]],
            ['discount_above_gross', 'provided_discount_amount > gross_amount'],
            ['cost_above_gross', "status = 'completed' and provided_cost_amount > gross_amount"],
            ['timestamp_in_future', 'ordered_at > loaded_at_business'],
            ['unknown_customer', 'known_customer_id is null'],
            ['before_customer_created', 'ordered_at < customer_created_at'],
        ]) }} as rejection_reason
    from with_customer

),

final as (

    select
        *,
        {{ staging_row_disposition() }} as row_disposition,
        coalesce(order_id, '') as record_id,
        case when rejection_reason is not null then {{ staging_record_preview([
            'order_id', 'customer_id', 'ordered_at_text', 'status', 'gross_amount_text',
            'discount_amount_text', 'cost_amount_text', 'product_category', 'sales_channel',
            'updated_at_text',
        ]) }} end as record_preview
    from judged

)

select * from final
