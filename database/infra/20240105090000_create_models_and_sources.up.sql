-- Indexing models and the data sources they read from.
-- Keys are chosen by the indexer (no auto-increment), so the same schema
-- runs on SQLite and PostgreSQL.

CREATE TABLE models (
    id          BIGINT    NOT NULL PRIMARY KEY,
    name        TEXT      NOT NULL,
    description TEXT,
    status      TEXT      NOT NULL DEFAULT 'draft',
    created_at  TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT models_name_key UNIQUE (name),
    CONSTRAINT models_status_check CHECK (status IN ('draft', 'active', 'paused', 'retired'))
);

CREATE INDEX models_status_idx ON models (status);

CREATE TABLE sources (
    id           BIGINT    NOT NULL PRIMARY KEY,
    kind         TEXT      NOT NULL,
    endpoint_url TEXT      NOT NULL,
    chain_id     BIGINT    NOT NULL,
    enabled      BOOLEAN   NOT NULL DEFAULT TRUE,
    created_at   TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT sources_endpoint_key UNIQUE (chain_id, endpoint_url),
    CONSTRAINT sources_kind_check CHECK (kind IN ('rpc', 'archive', 'substreams'))
);

CREATE INDEX sources_chain_kind_idx ON sources (chain_id, kind);
