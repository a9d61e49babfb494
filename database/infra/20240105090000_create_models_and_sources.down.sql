DROP INDEX IF EXISTS sources_chain_kind_idx;
DROP TABLE IF EXISTS sources;
DROP INDEX IF EXISTS models_status_idx;
DROP TABLE IF EXISTS models;
