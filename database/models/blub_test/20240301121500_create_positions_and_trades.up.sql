-- blub_test: positions opened on the indexed markets and the trades that
-- change them. Token amounts are raw integer units (up to 2^256 - 1).

CREATE TABLE positions (
    position_id     TEXT           NOT NULL PRIMARY KEY,
    account         TEXT           NOT NULL,
    market          TEXT           NOT NULL,
    side            TEXT           NOT NULL,
    size            NUMERIC(78, 0) NOT NULL DEFAULT 0,
    collateral      NUMERIC(78, 0) NOT NULL DEFAULT 0,
    status          TEXT           NOT NULL DEFAULT 'open',
    opened_block    BIGINT         NOT NULL,
    opened_tx_hash  TEXT           NOT NULL,
    closed_block    BIGINT,
    updated_at      TIMESTAMP      NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT positions_side_check CHECK (side IN ('long', 'short')),
    CONSTRAINT positions_status_check CHECK (status IN ('open', 'closed', 'liquidated')),
    CONSTRAINT positions_opened_tx_fk
        FOREIGN KEY (opened_block, opened_tx_hash)
        REFERENCES transaction_processing (block_number, tx_hash) ON DELETE CASCADE
);

CREATE INDEX positions_account_idx ON positions (account, status);
CREATE INDEX positions_market_idx ON positions (market, status);
CREATE INDEX positions_opened_tx_idx ON positions (opened_block, opened_tx_hash);

CREATE TABLE trades (
    block_number  BIGINT         NOT NULL,
    tx_hash       TEXT           NOT NULL,
    log_index     INTEGER        NOT NULL,
    position_id   TEXT,
    account       TEXT           NOT NULL,
    market        TEXT           NOT NULL,
    side          TEXT           NOT NULL,
    token_in      TEXT           NOT NULL,
    token_out     TEXT           NOT NULL,
    amount_in     NUMERIC(78, 0) NOT NULL,
    amount_out    NUMERIC(78, 0) NOT NULL,
    fee           NUMERIC(78, 0) NOT NULL DEFAULT 0,
    traded_at     TIMESTAMP      NOT NULL,
    PRIMARY KEY (tx_hash, log_index),
    CONSTRAINT trades_side_check CHECK (side IN ('buy', 'sell')),
    CONSTRAINT trades_amounts_check CHECK (amount_in >= 0 AND amount_out >= 0),
    CONSTRAINT trades_tx_fk
        FOREIGN KEY (block_number, tx_hash)
        REFERENCES transaction_processing (block_number, tx_hash) ON DELETE CASCADE,
    CONSTRAINT trades_position_fk
        FOREIGN KEY (position_id) REFERENCES positions (position_id) ON DELETE SET NULL
);

CREATE INDEX trades_block_idx ON trades (block_number, tx_hash);
CREATE INDEX trades_account_idx ON trades (account, traded_at);
CREATE INDEX trades_market_idx ON trades (market, traded_at);
CREATE INDEX trades_position_idx ON trades (position_id);
