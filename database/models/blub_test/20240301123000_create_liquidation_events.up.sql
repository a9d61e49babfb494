-- blub_test: liquidations of positions. Removing a position removes its
-- liquidation events with it.

CREATE TABLE liquidation_events (
    block_number      BIGINT         NOT NULL,
    tx_hash           TEXT           NOT NULL,
    log_index         INTEGER        NOT NULL,
    position_id       TEXT           NOT NULL,
    liquidator        TEXT           NOT NULL,
    collateral_token  TEXT           NOT NULL,
    collateral_seized NUMERIC(78, 0) NOT NULL,
    debt_repaid       NUMERIC(78, 0) NOT NULL,
    is_partial        BOOLEAN        NOT NULL DEFAULT FALSE,
    liquidated_at     TIMESTAMP      NOT NULL,
    PRIMARY KEY (tx_hash, log_index),
    CONSTRAINT liquidation_events_amounts_check
        CHECK (collateral_seized >= 0 AND debt_repaid >= 0),
    CONSTRAINT liquidation_events_position_fk
        FOREIGN KEY (position_id) REFERENCES positions (position_id) ON DELETE CASCADE,
    CONSTRAINT liquidation_events_tx_fk
        FOREIGN KEY (block_number, tx_hash)
        REFERENCES transaction_processing (block_number, tx_hash) ON DELETE CASCADE
);

CREATE INDEX liquidation_events_position_idx ON liquidation_events (position_id);
CREATE INDEX liquidation_events_block_idx ON liquidation_events (block_number, tx_hash);
CREATE INDEX liquidation_events_liquidator_idx ON liquidation_events (liquidator, liquidated_at);
