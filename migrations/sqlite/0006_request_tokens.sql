-- 0006_request_tokens (embedded SQLite edition); see
-- migrations/postgres/0006_request_tokens.sql. The embedded journal does not
-- retry writes, but writes the same tokens so both engines hold the same
-- columns with the same meaning.

ALTER TABLE calls ADD COLUMN request_token TEXT;
CREATE UNIQUE INDEX calls_request_token_key ON calls (request_token);
ALTER TABLE rejects ADD COLUMN request_token TEXT;
CREATE UNIQUE INDEX rejects_request_token_key ON rejects (request_token);

CREATE TRIGGER calls_token_fixed BEFORE UPDATE ON calls
WHEN NEW.request_token IS NOT OLD.request_token
BEGIN
    SELECT RAISE(ABORT, 'journal: call request token cannot change');
END;
