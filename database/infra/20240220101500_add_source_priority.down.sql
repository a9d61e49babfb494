DROP INDEX IF EXISTS sources_chain_priority_idx;
ALTER TABLE sources DROP COLUMN priority;
