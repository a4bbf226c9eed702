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
