-- blub_test: processing state of every transaction the model has seen.
-- One row per (block, transaction); the indexer writes it before it writes
-- the rows derived from the transaction, and marks it done afterwards.

CREATE TABLE transaction_processing (
    block_number BIGINT    NOT NULL,
    tx_hash      TEXT      NOT NULL,
    block_hash   TEXT      NOT NULL,
    status       TEXT      NOT NULL DEFAULT 'pending',
    attempts     INTEGER   NOT NULL DEFAULT 0,
    error        TEXT,
    first_seen_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    processed_at TIMESTAMP,
    PRIMARY KEY (block_number, tx_hash),
    CONSTRAINT transaction_processing_tx_hash_key UNIQUE (tx_hash),
    CONSTRAINT transaction_processing_status_check
        CHECK (status IN ('pending', 'processing', 'done', 'failed', 'reorged')),
    CONSTRAINT transaction_processing_attempts_check CHECK (attempts >= 0)
);

CREATE INDEX transaction_processing_status_idx ON transaction_processing (status, block_number);
CREATE INDEX transaction_processing_processed_at_idx ON transaction_processing (processed_at);
