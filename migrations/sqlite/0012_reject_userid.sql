-- The member a rejected row is about; see the PostgreSQL migration of the
-- same number.
ALTER TABLE rejects ADD COLUMN userid TEXT NOT NULL DEFAULT '';
CREATE INDEX rejects_userid ON rejects (lower(userid)) WHERE userid <> '';
