-- 0006_request_tokens: journal writes that can be retried safely.
--
-- The importer retries a journal write whose connection was lost. When the
-- server had committed the INSERT and only the answer was lost, a retry
-- would add a second row for the same call attempt or reject. Each such
-- write now carries a token the importer generates once per write; the
-- retry inserts with ON CONFLICT (request_token) DO NOTHING and finds the
-- row the first attempt left. Rows written before this version have none.

ALTER TABLE calls ADD COLUMN request_token text;
ALTER TABLE calls ADD CONSTRAINT calls_request_token_key UNIQUE (request_token);
ALTER TABLE rejects ADD COLUMN request_token text;
ALTER TABLE rejects ADD CONSTRAINT rejects_request_token_key UNIQUE (request_token);

COMMENT ON COLUMN calls.request_token IS 'Random token of the journal write that inserted the row, so that a retry after a lost answer finds it instead of inserting it again. Not part of the WeCom request.';
COMMENT ON COLUMN rejects.request_token IS 'As calls.request_token.';

-- The token is part of what the row records (journal_guard_calls compares
-- the columns of 0001 only); rejects are never updated at all.
CREATE FUNCTION journal_guard_call_token() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.request_token IS DISTINCT FROM OLD.request_token THEN
        RAISE EXCEPTION 'journal: call % request token cannot change', OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER calls_token_fixed
    BEFORE UPDATE ON calls
    FOR EACH ROW EXECUTE FUNCTION journal_guard_call_token();
