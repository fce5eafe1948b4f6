-- 0007_occurrence_start (embedded SQLite edition); see
-- migrations/postgres/0007_occurrence_start.sql. From this version serve
-- claims occurrences in schedule_occurrences on the embedded journal too,
-- so that two serve processes on one host run each occurrence once.

ALTER TABLE schedule_occurrences ADD COLUMN started_at TEXT;
ALTER TABLE schedule_occurrences ADD COLUMN reclaimed_from TEXT;
