-- The member a rejected row, a warning or a hold is about, when its userid
-- could be read, so a member's history shows the runs that held them as
-- well as the calls that changed them. Older rows keep ''.
ALTER TABLE rejects ADD COLUMN userid TEXT NOT NULL DEFAULT '';
CREATE INDEX rejects_userid ON rejects (lower(userid)) WHERE userid <> '';
