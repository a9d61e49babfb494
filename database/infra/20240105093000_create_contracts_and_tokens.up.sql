-- Contracts the models index, and the tokens their events mention.

CREATE TABLE contracts (
    id          BIGINT    NOT NULL PRIMARY KEY,
    chain_id    BIGINT    NOT NULL,
    address     TEXT      NOT NULL,
    name        TEXT      NOT NULL,
    abi         TEXT      NOT NULL DEFAULT '[]',
    start_block BIGINT    NOT NULL DEFAULT 0,
    created_at  TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT contracts_chain_address_key UNIQUE (chain_id, address),
    CONSTRAINT contracts_start_block_check CHECK (start_block >= 0)
);

CREATE INDEX contracts_name_idx ON contracts (name);

CREATE TABLE tokens (
    chain_id   BIGINT    NOT NULL,
    address    TEXT      NOT NULL,
    symbol     TEXT      NOT NULL,
    decimals   INTEGER   NOT NULL,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (chain_id, address),
    CONSTRAINT tokens_decimals_check CHECK (decimals BETWEEN 0 AND 77)
);

CREATE INDEX tokens_symbol_idx ON tokens (symbol);
