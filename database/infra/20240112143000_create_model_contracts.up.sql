-- Which contracts each model indexes (many to many).

CREATE TABLE model_contracts (
    model_id    BIGINT    NOT NULL,
    contract_id BIGINT    NOT NULL,
    added_at    TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (model_id, contract_id),
    CONSTRAINT model_contracts_model_fk
        FOREIGN KEY (model_id) REFERENCES models (id) ON DELETE CASCADE,
    CONSTRAINT model_contracts_contract_fk
        FOREIGN KEY (contract_id) REFERENCES contracts (id) ON DELETE CASCADE
);

-- The primary key serves lookups by model; this one serves lookups by contract.
CREATE INDEX model_contracts_contract_idx ON model_contracts (contract_id);
