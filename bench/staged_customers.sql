-- The staged customers (id and creation time) that an order is checked against, by the rules of
-- base_crm__customers (without its PII hashing, which the orders model does not read). Timed as its own
-- row before the staging orders reference, whose ratio does not include it (base_crm__orders, too, reads
-- customers that are already staged); also the first step of the core lifecycle reference, timed with it.

create or replace table staged_customers as
with

parsed as (
    select
        text_value(customer_id) as customer_id,
        lower(text_value(customer_type)) as customer_type,
        text_value(birth_date) as birth_date_text,
        calendar_date(text_value(birth_date)) as birth_date,
        text_value(created_at) as created_at_text,
        business_time(text_value(created_at)) as created_at,
        text_value(closed_at) as closed_at_text,
        business_time(text_value(closed_at)) as closed_at,
        text_value(updated_at) as updated_at_text,
        business_time(text_value(updated_at)) as updated_at,
        business_loaded_at(_loaded_at) as loaded_at_business,
        _file_name,
        _file_row_number
    from warehouse.raw.customers
),

-- rows without an id or with an unparseable updated_at are rejected before versioning
versioned as (
    select
        *,
        row_number() over (
            partition by customer_id
            order by updated_at desc nulls last, _file_name desc, _file_row_number desc
        ) as version_rank
    from parsed
    where customer_id is not null and not (updated_at_text is not null and updated_at is null)
)

select
    customer_id,
    created_at
from versioned
where
    version_rank = 1
    and created_at_text is not null
    and created_at is not null
    and not (closed_at_text is not null and closed_at is null)
    and not (birth_date_text is not null and birth_date is null)
    and (customer_type is null or customer_type in ('individual', 'enterprise'))
    and created_at <= loaded_at_business
    and (closed_at is null or closed_at <= loaded_at_business);
