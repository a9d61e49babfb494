-- Several sources may serve one chain: the indexer tries them by priority,
-- lowest number first.

ALTER TABLE sources ADD COLUMN priority INTEGER NOT NULL DEFAULT 100;

CREATE INDEX sources_chain_priority_idx ON sources (chain_id, priority);
