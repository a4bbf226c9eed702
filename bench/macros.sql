-- Parsing rules shared by the hand-written references (run first in every reference's connection).
-- They are the project's accepted shapes (macros/staging/staging_parsing.sql), written once as DuckDB
-- macros: a shape check with a regular expression, then try_cast, so bad text becomes null, never an error.

-- trimmed text, blank as null
create or replace temp macro text_value(t) as nullif(trim(t), '');

-- money: decimal(18,2) when the trimmed text has the shape of a plain number
create or replace temp macro money(t) as
    case
        when regexp_full_match(t, '^[+-]?([0-9]{1,15}([.][0-9]*)?|[.][0-9]+)$')
            then try_cast(t as decimal(18, 2))
    end;

-- a calendar date 'YYYY-MM-DD'
create or replace temp macro calendar_date(t) as
    case when regexp_full_match(t, '^[0-9]{4}-[0-9]{2}-[0-9]{2}$') then try_cast(t as date) end;

-- ISO-8601 text as a naive business-local (Asia/Shanghai) timestamp: without an offset the text already
-- is business-local; with 'Z' or an offset it is converted
create or replace temp macro business_time(t) as
    case
        when regexp_full_match(upper(t), '^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]{1,9})?)?)?$')
            then try_cast(upper(t) as timestamp)
        when regexp_full_match(upper(t), '^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]{1,9})?(Z|[+-][0-9]{2}(:?[0-9]{2})?)$')
            then timezone('Asia/Shanghai', try_cast(upper(t) as timestamptz))
    end;

-- a plain number 'decimal(18,4)' (counts and scores)
create or replace temp macro number_value(t) as
    case
        when regexp_full_match(t, '^[+-]?([0-9]{1,15}([.][0-9]*)?|[.][0-9]+)$')
            then try_cast(t as decimal(18, 4))
    end;

-- the digits of a phone number, none as null
create or replace temp macro digits_only(t) as nullif(regexp_replace(t, '[^0-9]', '', 'g'), '');

-- masked forms of PII: the first character of a name, the last four digits of a longer phone number,
-- the first character and the domain of an e-mail address
create or replace temp macro masked_name(t) as case when t is not null then substring(t, 1, 1) || '**' end;
create or replace temp macro masked_phone(t) as
    case when length(t) > 4 then '*******' || right(t, 4) when t is not null then '*******' end;
create or replace temp macro masked_email(t) as
    case when t is not null then substring(t, 1, 1) || '***@' || split_part(t, '@', 2) end;

-- pii_hmac(t), HMAC-SHA256 keyed with the salt, is defined by orchestration/bench_reference.py from the
-- settings' salt (the key must not be written in a file)

-- the load time (UTC) in business-local time, what "in the future" is judged against
create or replace temp macro business_loaded_at(t) as (t at time zone 'UTC') at time zone 'Asia/Shanghai';

-- an older version "has the same updated_at" as the current one when both are equal or both missing
create or replace temp macro same_updated_at(a, b) as (a = b or (a is null and b is null));

-- a raw row's fate: rejected with a reason, superseded by a newer version of its id, or staged
create or replace temp macro row_disposition(rejection_reason, version_rank) as
    case
        when rejection_reason is not null then 'rejected'
        when version_rank > 1 then 'superseded'
        else 'staged'
    end;
