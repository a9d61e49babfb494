#!/usr/bin/env python3
"""Generate a long PostgreSQL migration history (a test and benchmark fixture).

The history reads like the one an online shop's database accumulates over
the years: tables with foreign keys, indexes and check constraints; columns
added, renamed, widened, given defaults and made NOT NULL; enum types that
grow (ALTER TYPE ... ADD VALUE, used only from a later migration); PL/pgSQL
functions and triggers with dollar-quoted bodies; SQL-standard BEGIN ATOMIC
bodies; DO blocks; views, materialized views and a partitioned table; data
backfills; comments on everything.  The files also carry the accidents real
histories carry: a comment after the last statement, a missing final
semicolon, CRLF line endings, a UTF-8 byte order mark.

Every file is meant to run inside one transaction: no file uses a
no-transaction directive or its own BEGIN/COMMIT.  About two thirds of the
migrations have a down file that drops what the up file made, in reverse
order; the newest 30 always have one, and theirs undo their up files exactly.

The output is deterministic: the same --count writes the same bytes.

    python3 bench/gen_history.py [--count 240] [--out DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import pathlib
import random
import re
import sys

SEED = 20240101
START = dt.datetime(2024, 1, 1, 0, 0, 0)
TAIL = 30  # the newest TAIL migrations all have exact down files
DOWN_PROBABILITY = 0.72  # for older reversible migrations
DEFAULT_COUNT = 240
DEFAULT_OUT = (
    pathlib.Path(__file__).resolve().parent.parent
    / "crates" / "core" / "tests" / "fixtures" / "long_history"
)
MIGRATION_FILE = re.compile(r"\d{14}_[a-z0-9_]+(\.up|\.down)?\.sql\Z")

# ---------------------------------------------------------------------------
# SQL text helpers
# ---------------------------------------------------------------------------

SIMPLE_IDENT = re.compile(r"[a-z_][a-z0-9_]*\Z")
RESERVED = {"order", "user", "group", "table", "check", "default", "limit", "offset"}


def qi(name: str) -> str:
    """Quote an identifier when it needs quoting."""
    if SIMPLE_IDENT.match(name) and name not in RESERVED:
        return name
    return '"' + name.replace('"', '""') + '"'


def slugify(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def elit(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n")
    return "E'" + escaped + "'"


def obj_name(*parts: str) -> str:
    """An index/constraint/function name: lower case, at most 63 bytes."""
    return "_".join(slugify(p) for p in parts if p)[:63].rstrip("_")


def title_of(name: str) -> str:
    words = slugify(name).replace("_", " ")
    return words[:1].upper() + words[1:]


# ---------------------------------------------------------------------------
# Schema model: what the history has built so far
# ---------------------------------------------------------------------------

TYPES = {
    "name": "text", "code": "text", "email": "text", "vchar": "varchar(120)",
    "qty": "integer", "count": "integer", "money": "numeric(12,2)",
    "rate": "numeric(6,4)", "bool": "boolean", "ts": "timestamptz",
    "date": "date", "json": "jsonb", "uuid": "uuid", "text": "text",
    "url": "text", "inet": "inet", "bigint": "bigint", "currency": "char(3)",
    "country": "char(2)", "fk": "bigint", "arr": "text[]",
}

DEFAULTS = {
    "qty": "1", "count": "0", "money": "0", "rate": "0", "bool": "false",
    "ts": "now()", "date": "CURRENT_DATE", "json": "'{}'::jsonb",
    "uuid": "gen_random_uuid()", "text": "''", "bigint": "0",
    "currency": "'USD'", "arr": "'{}'", "vchar": "''",
}

CURRENCY_CODES = ["USD", "EUR", "GBP"]
COUNTRY_CODES = ["US", "DE", "FR", "GB"]


class Col:
    def __init__(self, name: str, kind: str, *, null: bool = False,
                 default: str | None = None, ref: str | None = None,
                 unique: bool = False, on_delete: str = "CASCADE") -> None:
        self.name = name
        self.kind = kind
        self.sqltype = TYPES.get(kind, "text")
        self.null = null
        self.default = default
        self.ref = ref
        self.unique = unique
        self.on_delete = on_delete
        self.pinned = False  # referenced by a view, function or generated column
        self.legacy = False  # slated for removal; nothing may use it
        self.enum: str | None = None
        self.comment: str | None = None  # SQL literal, as written
        self.checked = False
        self.domain = False

    @property
    def q(self) -> str:
        return qi(self.name)


class Table:
    def __init__(self, name: str, singular: str, *, lookup: bool = False,
                 system: bool = False) -> None:
        self.name = name
        self.singular = singular
        self.slug = slugify(name)
        self.lookup = lookup
        self.system = system  # infrastructure tables that random steps leave alone
        self.cols: list[Col] = []
        self.n0 = 0  # rows inserted when the table was created: ids 1..n0
        self.next_n = 1
        self.comment: str | None = None
        self.updated_trigger = False
        self.audited = False
        self.index_sigs: list[str] = []

    @property
    def q(self) -> str:
        return qi(self.name)

    def col(self, name: str) -> Col | None:
        for c in self.cols:
            if c.name == name:
                return c
        return None

    def cols_of(self, *kinds: str) -> list[Col]:
        return [c for c in self.cols if c.kind in kinds and not c.legacy]

    @property
    def prefix(self) -> str:
        return re.sub(r"[^a-z]", "", self.singular)[:4].upper()


class Enum:
    def __init__(self, name: str, table: str, column: str, values: list[str],
                 later: list[tuple[str, tuple[str, str] | None]]) -> None:
        self.name = name
        self.table = table
        self.column = column
        self.values = list(values)
        self.later = list(later)  # values a later migration adds
        self.usable_from: dict[str, int] = {}  # added value -> first migration that may use it
        self.used: list[str] = []
        self.comment: str | None = None


class View:
    def __init__(self, name: str, table: str, select: str, comment: str | None) -> None:
        self.name = name
        self.table = table
        self.select = select
        self.comment = comment
        self.extended = False


class Op:
    """One change: its up statements, its down statements (None when it cannot
    be undone) and whether the down restores the schema exactly."""

    def __init__(self, desc: str, title: str, up: list[str],
                 down: list[str] | None, exact: bool = True,
                 note: str | None = None) -> None:
        self.desc = desc
        self.title = title
        self.up = up
        self.down = down
        self.exact = exact and down is not None
        self.note = note


# ---------------------------------------------------------------------------
# The tables the product grows, in the order it grows them
# ---------------------------------------------------------------------------

def spec(name, singular, cols, lookup=False):
    return (name, singular, cols, lookup)


TABLE_SPECS = [
    spec("currencies", "currency", [("code", "currency", "pk"), ("name", "name", ""),
                                    ("symbol", "text", ""), ("minor_units", "count", "def")], lookup=True),
    spec("countries", "country", [("code", "country", "pk"), ("name", "name", ""),
                                  ("calling_code", "vchar", "null")], lookup=True),
    spec("organizations", "organization", [
        ("name", "name", ""), ("slug", "code", "uniq"), ("billing_email", "email", "null"),
        ("settings", "json", "def"), ("created_at", "ts", "def"), ("updated_at", "ts", "def")]),
    spec("users", "user", [
        ("organization_id", "fk", "organizations"), ("email", "email", "uniq"),
        ("display_name", "name", ""), ("is_admin", "bool", "def"), ("last_login_at", "ts", "null"),
        ("created_at", "ts", "def"), ("updated_at", "ts", "def")]),
    spec("api_keys", "api_key", [
        ("user_id", "fk", "users"), ("key_prefix", "code", "uniq"), ("label", "vchar", "null"),
        ("expires_at", "ts", "null"), ("created_at", "ts", "def")]),
    spec("customers", "customer", [
        ("organization_id", "fk", "organizations"), ("email", "email", ""), ("full_name", "name", ""),
        ("country_code", "country", ""), ("marketing_opt_in", "bool", "def"),
        ("created_at", "ts", "def"), ("updated_at", "ts", "def")]),
    spec("addresses", "address", [
        ("customer_id", "fk", "customers"), ("line1", "vchar", ""), ("city", "name", ""),
        ("postal_code", "vchar", "null"), ("country_code", "country", ""),
        ("is_default", "bool", "def"), ("created_at", "ts", "def")]),
    spec("categories", "category", [
        ("parent_id", "fk", "categories null set_null"), ("name", "name", ""),
        ("slug", "code", "uniq"), ("sort_position", "count", "def")]),
    spec("products", "product", [
        ("organization_id", "fk", "organizations"), ("category_id", "fk", "categories null set_null"),
        ("sku", "code", "uniq"), ("title", "name", ""), ("description", "text", "null"),
        ("list_price", "money", ""), ("currency_code", "currency", "def"),
        ("created_at", "ts", "def"), ("updated_at", "ts", "def")]),
    spec("product_variants", "product_variant", [
        ("product_id", "fk", "products"), ("sku", "code", "uniq"), ("label", "vchar", ""),
        ("price", "money", ""), ("weight_grams", "qty", "null"), ("created_at", "ts", "def")]),
    spec("warehouses", "warehouse", [
        ("code", "code", "uniq"), ("name", "name", ""), ("country_code", "country", ""),
        ("created_at", "ts", "def")]),
    spec("inventory_levels", "inventory_level", [
        ("variant_id", "fk", "product_variants"), ("warehouse_id", "fk", "warehouses"),
        ("on_hand", "count", "def"), ("reserved", "count", "def"), ("updated_at", "ts", "def")]),
    spec("carts", "cart", [
        ("customer_id", "fk", "customers null set_null"), ("token", "uuid", "def"),
        ("currency_code", "currency", "def"), ("created_at", "ts", "def"), ("updated_at", "ts", "def")]),
    spec("cart_lines", "cart_line", [
        ("cart_id", "fk", "carts"), ("variant_id", "fk", "product_variants"),
        ("quantity", "qty", "def"), ("created_at", "ts", "def")]),
    spec("orders", "order", [
        ("customer_id", "fk", "customers restrict"), ("order_ref", "code", "uniq"),
        ("currency_code", "currency", "def"), ("total_amount", "money", "def"),
        ("placed_at", "ts", "def"), ("created_at", "ts", "def"), ("updated_at", "ts", "def")]),
    spec("Order Items", "order_item", [
        ("order_id", "fk", "orders"), ("variant_id", "fk", "product_variants restrict"),
        ("Line No", "count", ""), ("quantity", "qty", "def"), ("Unit Price", "money", ""),
        ("created_at", "ts", "def")]),
    spec("payments", "payment", [
        ("order_id", "fk", "orders"), ("amount", "money", ""), ("currency_code", "currency", "def"),
        ("provider", "vchar", ""), ("provider_ref", "code", "uniq"), ("captured_at", "ts", "null"),
        ("created_at", "ts", "def")]),
    spec("refunds", "refund", [
        ("payment_id", "fk", "payments"), ("amount", "money", ""), ("reason", "text", "null"),
        ("created_at", "ts", "def")]),
    spec("invoices", "invoice", [
        ("organization_id", "fk", "organizations"), ("order_id", "fk", "orders null set_null"),
        ("invoice_ref", "code", "uniq"), ("subtotal", "money", "def"), ("tax_total", "money", "def"),
        ("issued_on", "date", "def"), ("due_on", "date", "null"), ("created_at", "ts", "def"),
        ("updated_at", "ts", "def")]),
    spec("invoice_lines", "invoice_line", [
        ("invoice_id", "fk", "invoices"), ("description", "name", ""), ("quantity", "qty", "def"),
        ("unit_amount", "money", ""), ("created_at", "ts", "def")]),
    spec("shipments", "shipment", [
        ("order_id", "fk", "orders"), ("warehouse_id", "fk", "warehouses restrict"),
        ("carrier", "vchar", ""), ("tracking_code", "code", "uniq"), ("shipped_at", "ts", "null"),
        ("created_at", "ts", "def"), ("updated_at", "ts", "def")]),
    spec("shipment_events", "shipment_event", [
        ("shipment_id", "fk", "shipments"), ("description", "name", ""), ("location", "vchar", "null"),
        ("occurred_at", "ts", "def"), ("created_at", "ts", "def")]),
    spec("coupons", "coupon", [
        ("organization_id", "fk", "organizations"), ("code", "code", "uniq"),
        ("percent_off", "rate", "def"), ("max_redemptions", "qty", "null"),
        ("expires_at", "ts", "null"), ("created_at", "ts", "def")]),
    spec("coupon_redemptions", "coupon_redemption", [
        ("coupon_id", "fk", "coupons"), ("order_id", "fk", "orders"), ("discount", "money", ""),
        ("created_at", "ts", "def")]),
    spec("reviews", "review", [
        ("product_id", "fk", "products"), ("customer_id", "fk", "customers"), ("rating", "qty", ""),
        ("title", "name", ""), ("body", "text", "null"), ("created_at", "ts", "def"),
        ("updated_at", "ts", "def")]),
    spec("wishlists", "wishlist", [
        ("customer_id", "fk", "customers"), ("name", "name", ""), ("is_public", "bool", "def"),
        ("created_at", "ts", "def")]),
    spec("wishlist_items", "wishlist_item", [
        ("wishlist_id", "fk", "wishlists"), ("product_id", "fk", "products"), ("added_at", "ts", "def")]),
    spec("plans", "plan", [
        ("code", "code", "uniq"), ("name", "name", ""), ("monthly_price", "money", ""),
        ("currency_code", "currency", "def"), ("is_public", "bool", "def"), ("created_at", "ts", "def")]),
    spec("subscriptions", "subscription", [
        ("organization_id", "fk", "organizations"), ("plan_id", "fk", "plans restrict"),
        ("seats", "qty", "def"), ("current_period_end", "ts", ""),
        ("cancel_at_period_end", "bool", "def"), ("created_at", "ts", "def"), ("updated_at", "ts", "def")]),
    spec("webhooks", "webhook", [
        ("organization_id", "fk", "organizations"), ("target_url", "url", ""),
        ("secret_hint", "vchar", "null"), ("is_active", "bool", "def"), ("created_at", "ts", "def")]),
    spec("webhook_deliveries", "webhook_delivery", [
        ("webhook_id", "fk", "webhooks"), ("event_name", "vchar", ""),
        ("response_status", "count", "null"), ("attempt", "qty", "def"), ("payload", "json", "def"),
        ("created_at", "ts", "def")]),
    spec("notifications", "notification", [
        ("user_id", "fk", "users"), ("title", "name", ""), ("body", "text", "null"),
        ("read_at", "ts", "null"), ("created_at", "ts", "def")]),
    spec("support_tickets", "support_ticket", [
        ("customer_id", "fk", "customers"), ("subject", "name", ""), ("ticket_ref", "code", "uniq"),
        ("closed_at", "ts", "null"), ("created_at", "ts", "def"), ("updated_at", "ts", "def")]),
    spec("ticket_messages", "ticket_message", [
        ("ticket_id", "fk", "support_tickets"), ("author_id", "fk", "users null set_null"),
        ("body", "text", ""), ("is_internal", "bool", "def"), ("created_at", "ts", "def")]),
    spec("tax_rates", "tax_rate", [
        ("country_code", "country", ""), ("name", "name", ""), ("rate", "rate", ""),
        ("valid_from", "date", "def"), ("created_at", "ts", "def")]),
    spec("suppliers", "supplier", [
        ("name", "name", ""), ("contact_email", "email", "null"), ("country_code", "country", ""),
        ("created_at", "ts", "def"), ("updated_at", "ts", "def")]),
    spec("purchase_orders", "purchase_order", [
        ("supplier_id", "fk", "suppliers restrict"), ("warehouse_id", "fk", "warehouses restrict"),
        ("po_ref", "code", "uniq"), ("expected_on", "date", "null"), ("created_at", "ts", "def"),
        ("updated_at", "ts", "def")]),
    spec("purchase_order_lines", "purchase_order_line", [
        ("purchase_order_id", "fk", "purchase_orders"),
        ("variant_id", "fk", "product_variants restrict"), ("quantity", "qty", "def"),
        ("unit_cost", "money", ""), ("created_at", "ts", "def")]),
    spec("product_returns", "product_return", [
        ("order_id", "fk", "orders"), ("reason", "text", "null"), ("refund_amount", "money", "def"),
        ("received_at", "ts", "null"), ("created_at", "ts", "def")]),
    spec("gift_cards", "gift_card", [
        ("organization_id", "fk", "organizations"), ("card_ref", "code", "uniq"),
        ("initial_balance", "money", ""), ("balance", "money", ""), ("currency_code", "currency", "def"),
        ("expires_on", "date", "null"), ("created_at", "ts", "def")]),
    spec("loyalty_accounts", "loyalty_account", [
        ("customer_id", "fk", "customers"), ("points", "count", "def"), ("tier", "vchar", "null"),
        ("created_at", "ts", "def"), ("updated_at", "ts", "def")]),
    spec("loyalty_transactions", "loyalty_transaction", [
        ("account_id", "fk", "loyalty_accounts"), ("points_delta", "bigint", ""),
        ("memo", "text", "null"), ("created_at", "ts", "def")]),
    spec("tags", "tag", [
        ("name", "name", ""), ("slug", "code", "uniq"), ("color", "vchar", "null"),
        ("created_at", "ts", "def")]),
    spec("product_tags", "product_tag", [
        ("product_id", "fk", "products"), ("tag_id", "fk", "tags"), ("created_at", "ts", "def")]),
    spec("feature_flags", "feature_flag", [
        ("code", "vchar", "pk"), ("description", "text", ""), ("enabled", "bool", "def"),
        ("rules", "json", "def")], lookup=True),
    spec("sessions", "session", [
        ("user_id", "fk", "users"), ("token_hash", "code", "uniq"), ("ip_address", "inet", "null"),
        ("user_agent", "text", "null"), ("expires_at", "ts", ""), ("created_at", "ts", "def")]),
    spec("exports", "export", [
        ("organization_id", "fk", "organizations"), ("requested_by", "fk", "users null set_null"),
        ("export_format", "vchar", ""), ("status_note", "text", "null"),
        ("finished_at", "ts", "null"), ("created_at", "ts", "def")]),
    spec("import_jobs", "import_job", [
        ("organization_id", "fk", "organizations"), ("source_url", "url", ""),
        ("rows_total", "count", "def"), ("rows_failed", "count", "def"),
        ("created_at", "ts", "def"), ("updated_at", "ts", "def")]),
]

LOOKUP_SEEDS = {
    "currencies": [
        ("USD", "US Dollar", "$", 2), ("EUR", "Euro", "€", 2), ("GBP", "Pound Sterling", "£", 2),
    ],
    "countries": [
        ("US", "United States", "+1"), ("DE", "Germany", "+49"), ("FR", "France", "+33"),
        ("GB", "United Kingdom", "+44"),
    ],
    "feature_flags": [
        ("checkout.v2", "New checkout; rolled out per organization", False, '{"percent": 10}'),
        ("pricing.show_usd", "Show prices as $ amounts; $$ marks a price on request", True, "{}"),
    ],
}

LATER_SEEDS = {
    "currencies": [
        [("CAD", "Canadian Dollar", "C$", 2), ("AUD", "Australian Dollar", "A$", 2)],
        [("JPY", "Yen", "¥", 0), ("CHF", "Swiss Franc", "Fr.", 2), ("SEK", "Swedish Krona", "kr", 2)],
        [("HKD", "Hong Kong Dollar", "HK$", 2), ("SGD", "Singapore Dollar", "S$", 2),
         ("MXN", "Mexican Peso", "Mex$", 2)],
        [("BRL", "Brazilian Real", "R$", 2), ("NZD", "New Zealand Dollar", "NZ$", 2)],
    ],
    "countries": [
        [("CA", "Canada", "+1"), ("AU", "Australia", "+61")],
        [("JP", "Japan", "+81"), ("CH", "Switzerland", "+41"), ("SE", "Sweden", "+46")],
        [("CI", "Côte d'Ivoire", "+225"), ("NL", "Netherlands", "+31")],
    ],
    "feature_flags": [
        [("support.escalate", "Escalate tickets after 2h; customer's tier decides", True, '{"hours": 2}'),
         ("search.fuzzy", "Fuzzy product search (trigram); off for large catalogs", False, "{}")],
        [("billing.proration", "Prorate seat changes; see $PRORATION_DOC", True, '{"mode": "daily"}'),
         ("exports.csv_bom", "Write a BOM at the start of CSV exports; Excel needs it", False, "{}")],
        [("orders.split_shipments", "Allow one order to ship from several warehouses", True,
          '{"max_parts": 3}'),
         ("ui.price_template", "Price template: $amount$ $currency$; use $$ for a literal $", True,
          '{"template": "$amount$ $currency$"}')],
    ],
}

ENUM_SPECS = [
    ("order_status", "orders", "status", ["pending", "paid", "shipped", "cancelled"],
     [("refunded", None), ("on_hold", ("BEFORE", "shipped")), ("partially_shipped", ("AFTER", "paid"))]),
    ("ticket_priority", "support_tickets", "priority", ["low", "normal", "high"], [("urgent", None)]),
    ("shipment_state", "shipments", "state", ["label_created", "in_transit", "delivered"],
     [("returned_to_sender", None), ("lost", None), ("out_for_delivery", ("BEFORE", "delivered"))]),
    ("subscription_state", "subscriptions", "state", ["trialing", "active", "past_due", "canceled"],
     [("paused", ("AFTER", "active"))]),
    ("review_state", "reviews", "moderation", ["pending", "approved", "rejected"], [("flagged", None)]),
    ("delivery_channel", "notifications", "channel", ["email", "in_app"],
     [("sms", None), ("push", None), ("webhook", None)]),
    ("payment_method", "payments", "method", ["card", "bank_transfer"],
     [("wallet", None), ("gift_card", None)]),
    ("export_state", "exports", "state", ["queued", "running", "done", "failed"], [("cancelled", None)]),
]

ENUM_RENAMES = {"cancelled": "canceled", "in_app": "in_app_message", "bank_transfer": "bank_wire",
                "label_created": "pre_transit", "rejected": "declined", "running": "in_progress"}

# Columns later migrations add: (name, kind, nullable, default, legacy)
ADD_POOL = [
    ("notes", "text", True, None, False),
    ("external_ref", "vchar", True, None, False),
    ("archived_at", "ts", True, None, False),
    ("is_archived", "bool", False, "false", False),
    ("metadata", "json", False, "'{}'::jsonb", False),
    ("display_order", "count", False, "0", False),
    ("discount_amount", "money", False, "0", False),
    ("locale", "text", False, "'en'", False),
    ("acquisition_source", "vchar", True, None, False),
    ("public_id", "uuid", False, "gen_random_uuid()", False),
    ("legacy_flags", "text", True, None, True),
    ("legacy_import_id", "bigint", True, None, True),
    ("deleted_at", "ts", True, None, False),
    ("revision", "qty", False, "1", False),
    ("labels", "arr", False, "'{}'", False),
    ("last_synced_at", "ts", True, None, False),
    ("sort_key", "vchar", True, None, False),
    ("time_zone", "text", False, "'UTC'", False),
    ("phone", "vchar", True, None, False),
    ("risk_score", "rate", True, None, False),
    ("legacy_status", "text", True, None, True),
    ("created_by", "vchar", True, None, False),
    ("updated_at", "ts", False, "now()", False),
]

RENAMES = {
    "notes": "internal_notes", "external_ref": "external_id", "acquisition_source": "source_channel",
    "sort_key": "sort_token", "phone": "phone_number", "label": "display_label",
    "description": "summary", "reason": "reason_text", "memo": "memo_text", "tier": "tier_name",
    "carrier": "carrier_name", "location": "location_name", "secret_hint": "secret_last4",
    "user_agent": "client_agent", "color": "color_hex", "created_by": "created_by_name",
    "body": "body_text", "event_name": "event_type", "provider": "provider_name",
}

COMMENT_TEXTS = {
    "money": ["Amount in major currency units (e.g. $12.50); never negative",
              "Stored with two decimals; rounding happens in the application",
              "Gross amount; taxes are included"],
    "ts": ["UTC timestamp; set by the application, not by a trigger",
           "When this happened (UTC)"],
    "json": ["Free-form attributes; keys are not validated",
             "JSON object, e.g. {\"seq\": 1}; arrays are rejected by the app"],
    "email": ["Lower-case e-mail address; uniqueness is enforced by the app",
              "Contact address; may be a role account (billing@...)"],
    "code": ["Human-readable reference, e.g. ABC-000123; shown to customers",
             "Stable reference; never reused once issued"],
    "name": ["Display name; may contain any Unicode", "Shown in lists and on invoices"],
    "bool": ["Toggled from the admin UI", "Defaults to false; see the rollout plan"],
    "fk": ["Owning row; deleting it deletes this row too", "Parent reference"],
    "currency": ["ISO 4217 code, e.g. USD; must exist in currencies",
                 "Currency of every amount on this row"],
    "country": ["ISO 3166-1 alpha-2 code, e.g. DE", "Country the tax rules come from"],
    "qty": ["Whole units; at least 1", "Number of items; the UI caps it at 99"],
    "count": ["Counter; never negative", "Maintained by the application; may lag by a minute"],
    "date": ["Calendar date in the organization's time zone", "Inclusive"],
    "vchar": ["Short label; at most 120 characters when it was added",
              "Copied from the partner's system as is; may contain ; or $"],
    "uuid": ["Random identifier exposed in URLs; never reuse", "Public identifier (UUID v4)"],
    "text": ["Free text; may contain semicolons; and quotes ' like this",
             "Template text: $$name$$ placeholders are replaced on render",
             "Rendered with $var$ placeholders; see the docs"],
}

TABLE_COMMENTS = [
    "{T} records; one row per {s}.",
    "{P}, as shown in the admin UI; see docs/data-model.md",
    "One row per {s}; rows are never hard-deleted in production",
    "{T} data; owned by the {team} team",
    "{P} (imported from the legacy system in 2023; ids were kept)",
]

TEAMS = ["checkout", "catalog", "fulfilment", "billing", "growth", "platform", "support"]


# ---------------------------------------------------------------------------
# The generator
# ---------------------------------------------------------------------------

class Migration:
    def __init__(self, index: int, version: str, ops: list[Op]) -> None:
        self.index = index
        self.version = version
        self.ops = ops
        self.desc = ops[0].desc
        self.title = ops[0].title
        self.exact = all(op.exact for op in ops)
        self.reversible = all(op.down is not None for op in ops)
        self.with_down = False


class Generator:
    def __init__(self, count: int) -> None:
        self.count = count
        self.r = random.Random(SEED)
        self.tables: dict[str, Table] = {}
        self.enums: dict[str, Enum] = {}
        self.views: dict[str, View] = {}
        self.matviews: dict[str, str] = {}
        self.names: set[str] = set()
        self.flags: dict[str, int] = {}
        self.skipped: list[str] = []
        self.refreshed: list[str] = []  # materialized views refreshed by the current migration
        self.routine = False  # the current migration's main change is an everyday one
        self.seeds_used: dict[str, int] = {}
        self.i = 0
        self.tail = False
        self.focus: Table | None = None  # the table the current migration is about
        self.ticket = 1040

    # -- small helpers -------------------------------------------------------

    def unique_name(self, base: str) -> str:
        name = base[:63]
        n = 2
        while name in self.names:
            suffix = f"_{n}"
            name = base[:63 - len(suffix)] + suffix
            n += 1
        self.names.add(name)
        return name

    def pick(self, seq):
        return seq[self.r.randrange(len(seq))]

    def chance(self, p: float) -> bool:
        return self.r.random() < p

    def entity_tables(self) -> list[Table]:
        return [t for t in self.tables.values() if not t.lookup and not t.system]

    def value_sql(self, t: Table, c: Col, n: str) -> str:
        k = c.kind
        if not SIMPLE_IDENT.match(n):
            n = f"({n})"
        if k == "name":
            return f"'{title_of(t.singular)} ' || {n}"
        if k == "code":
            return f"'{t.prefix}-' || lpad({n}::text, 6, '0')"
        if k == "email":
            return f"'{slugify(t.singular).replace('_', '.')}' || {n} || '@example.com'"
        if k == "vchar":
            return f"'{slugify(c.name)[:8]}-' || {n}"
        if k == "qty":
            return f"1 + {n} % 9"
        if k == "count":
            return f"{n} % 50"
        if k == "money":
            return f"round((({n} % 997) * 1.37)::numeric, 2)"
        if k == "rate":
            return f"round((({n} % 25) / 100.0)::numeric, 4)"
        if k == "bool":
            return f"{n} % 3 = 0"
        if k == "ts":
            return f"timestamptz '2024-01-01 00:00:00+00' + {n} * interval '37 minutes'"
        if k == "date":
            return f"date '2024-01-01' + ({n} % 365)::integer"
        if k == "json":
            return f"jsonb_build_object('seq', {n}, 'tag', 't' || {n} % 5)"
        if k == "text":
            return f"'note ' || {n}"
        if k == "url":
            return f"'https://hooks.example.com/' || {n}"
        if k == "inet":
            return f"('10.0.' || {n} % 250 || '.' || {n} % 200 + 1)::inet"
        if k == "bigint":
            return f"{n} * 10"
        if k == "currency":
            arr = ", ".join(lit(x) for x in CURRENCY_CODES)
            return f"(ARRAY[{arr}])[1 + {n} % {len(CURRENCY_CODES)}]"
        if k == "country":
            arr = ", ".join(lit(x) for x in COUNTRY_CODES)
            return f"(ARRAY[{arr}])[1 + {n} % {len(COUNTRY_CODES)}]"
        if k == "fk":
            parent = self.tables[c.ref]
            return f"1 + ({n} - 1) % {parent.n0}"
        raise ValueError(f"no value for kind {k}")

    def insert_cols(self, t: Table) -> list[Col]:
        out = []
        for c in t.cols:
            if c.kind in ("gen", "seq", "uuid", "enum", "arr", "identity") or c.legacy:
                continue
            if c.kind == "fk" and c.ref == t.name:
                continue
            if not c.null and c.default is None:
                out.append(c)
            elif c.kind in ("ts", "name", "money", "fk", "currency", "country"):
                out.append(c)
        return out

    def insert_rows(self, t: Table, rows: int) -> str:
        base = t.next_n
        t.next_n += rows
        n = "g" if base == 1 else f"g + {base - 1}"
        cols = self.insert_cols(t)
        names = ", ".join(c.q for c in cols)
        exprs = ",\n       ".join(self.value_sql(t, c, n) for c in cols)
        return (f"INSERT INTO {t.q} ({names})\n"
                f"SELECT {exprs}\n"
                f"FROM generate_series(1, {rows}) AS g;")

    def comment_literal(self, kind: str) -> str:
        text = self.pick(COMMENT_TEXTS.get(kind, COMMENT_TEXTS["text"]))
        if "'" in text and self.chance(0.5):
            return elit(text)
        return lit(text)

    def table_comment(self, t: Table) -> str:
        text = self.pick(TABLE_COMMENTS).format(
            T=title_of(t.singular), P=title_of(t.name), s=t.singular.replace("_", " "), team=self.pick(TEAMS))
        if self.chance(0.15):
            return elit(text.replace("; ", ";\n"))
        return lit(text)

    def sig_free(self, t: Table, sig: str) -> bool:
        if sig in t.index_sigs:
            return False
        t.index_sigs.append(sig)
        return True

    # -- creating tables -----------------------------------------------------

    def op_create_table(self, spec_row) -> Op:
        name, singular, cols, lookup = spec_row
        t = Table(name, singular, lookup=lookup)
        self.names.add(t.slug)
        self.names.add(obj_name(t.slug, "pkey"))
        self.names.add(obj_name(t.slug, "id", "seq"))
        self.tables[name] = t
        style = self.pick(["bigserial", "bigserial", "always", "always", "by_default"]
                          if self.i < self.count // 3 else ["always", "always", "by_default"])
        named_constraints = self.chance(0.6)
        lines: list[tuple[str, str | None]] = []
        constraints: list[str] = []
        after: list[str] = []
        if not lookup:
            if style == "bigserial":
                lines.append(("id bigserial PRIMARY KEY", None))
            elif style == "always":
                lines.append(("id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY", None))
            else:
                lines.append(("id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY", None))
            t.cols.append(Col("id", "identity"))
        for cname, kind, flags in cols:
            words = flags.split()
            if kind == "fk":
                ref = words[0]
                c = Col(cname, "fk", null="null" in words, ref=ref,
                        on_delete="SET NULL" if "set_null" in words
                        else "RESTRICT" if "restrict" in words else "CASCADE")
            else:
                c = Col(cname, kind, null="null" in words,
                        default=DEFAULTS.get(kind) if "def" in words else None,
                        unique="uniq" in words)
            if cname == "code" and kind == "vchar" and "pk" in words:
                c.sqltype = "varchar(64)"
            t.cols.append(c)
            parts = [c.q, c.sqltype]
            if "pk" in words:
                parts.append("PRIMARY KEY")
            elif not c.null:
                parts.append("NOT NULL")
            if c.default is not None:
                parts.append("DEFAULT " + c.default)
            if c.unique:
                self.names.add(obj_name(t.slug, cname, "key"))
                if named_constraints:
                    constraints.append(f"CONSTRAINT {obj_name(t.slug, cname, 'key')} UNIQUE ({c.q})")
                else:
                    parts.append("UNIQUE")
            if kind == "fk":
                ref_table = self.tables[c.ref]
                target = f"{ref_table.q} (id)"
            elif kind == "currency" and "pk" not in words:
                target = "currencies (code)"
            elif kind == "country" and "pk" not in words:
                target = "countries (code)"
            else:
                target = None
            if target:
                action = "" if c.on_delete == "RESTRICT" and self.chance(0.5) else f" ON DELETE {c.on_delete}"
                if kind != "fk":
                    action = ""
                if named_constraints:
                    constraints.append(f"CONSTRAINT {obj_name(t.slug, cname, 'fkey')} "
                                       f"FOREIGN KEY ({c.q}) REFERENCES {target}{action}")
                else:
                    parts.append(f"REFERENCES {target}{action}")
            check = self.check_for(c)
            if check and (kind in ("code", "email", "money", "url") or self.chance(0.5)):
                c.checked = True
                if named_constraints:
                    constraints.append(f"CONSTRAINT {obj_name(t.slug, cname, 'check')} CHECK ({check})")
                else:
                    parts.append(f"CHECK ({check})")
            note = None
            if self.chance(0.08):
                note = self.pick(["see the data model doc", "set by the app; never by hand",
                                  "mirrors the API field of the same name"])
            lines.append((" ".join(parts), note))
        body_lines = lines + [(con, None) for con in constraints]
        rendered = []
        for j, (line, note) in enumerate(body_lines):
            last = j == len(body_lines) - 1
            rendered.append("    " + line + ("" if last else ",") + (f"  -- {note}" if note else ""))
        up = [f"CREATE TABLE {t.q} (\n" + "\n".join(rendered) + "\n);"]
        # Indexes on foreign keys, and one on created_at for the busiest tables.
        for c in t.cols:
            if c.kind == "fk" and self.sig_free(t, c.name):
                after.append(f"CREATE INDEX {self.unique_name(obj_name(t.slug, c.name, 'idx'))} "
                             f"ON {t.q} ({c.q});")
        created = t.col("created_at")
        if created and not lookup and self.chance(0.4) and self.sig_free(t, "created_at desc"):
            after.append(f"CREATE INDEX {self.unique_name(obj_name(t.slug, 'created_at', 'idx'))} "
                         f"ON {t.q} (created_at DESC);")
        up += after
        t.comment = self.table_comment(t)
        up.append(f"COMMENT ON TABLE {t.q} IS {t.comment};")
        for c in self.r.sample(t.cols[1:], k=min(len(t.cols) - 1, self.r.randint(0, 2))):
            c.comment = self.comment_literal(c.kind)
            up.append(f"COMMENT ON COLUMN {t.q}.{c.q} IS {c.comment};")
        if lookup:
            up.append(self.lookup_insert(t, LOOKUP_SEEDS[name]))
            t.n0 = len(LOOKUP_SEEDS[name])
        else:
            rows = self.r.choice([40, 120, 250, 400, 800, 1500])
            t.n0 = rows
            up.append(self.insert_rows(t, rows))
        if t.col("updated_at") and "set_updated_at" in self.flags:
            trig = self.unique_name(obj_name(t.slug, "set_updated_at"))
            up.append(f"CREATE TRIGGER {trig}\n    BEFORE UPDATE ON {t.q}\n"
                      f"    FOR EACH ROW EXECUTE FUNCTION set_updated_at();")
            t.updated_trigger = True
        if "audit" in self.flags and not lookup and self.chance(0.3):
            up.append(self.audit_trigger_sql(t))
        down = [f"DROP TABLE {'IF EXISTS ' if self.chance(0.5) else ''}{t.q};"]
        return Op(f"create_{t.slug}", f"Create {t.name}", up, down,
                  note=self.pick(["", "Rows are seeded for the demo tenant.",
                                  f"Requested by the {self.pick(TEAMS)} team."]))

    def check_for(self, c: Col) -> str | None:
        q = c.q
        return {
            "code": f"{q} ~ '^[A-Z]+-[0-9]+$'",
            "email": f"position('@' in {q}) > 1",
            "money": f"{q} >= 0",
            "qty": f"{q} > 0",
            "count": f"{q} >= 0",
            "rate": f"{q} >= 0 AND {q} <= 1",
            "url": f"{q} LIKE 'https://%'",
        }.get(c.kind)

    def lookup_insert(self, t: Table, rows) -> str:
        cols = ", ".join(c.q for c in t.cols[: len(rows[0])])
        values = []
        for row in rows:
            vals = []
            for v in row:
                if isinstance(v, bool):
                    vals.append("true" if v else "false")
                elif isinstance(v, int):
                    vals.append(str(v))
                elif isinstance(v, str) and v.startswith("{"):
                    vals.append(lit(v) + "::jsonb")
                elif isinstance(v, str) and "'" in v:
                    vals.append(elit(v))
                else:
                    vals.append(lit(v))
            values.append("    (" + ", ".join(vals) + ")")
        return f"INSERT INTO {t.q} ({cols}) VALUES\n" + ",\n".join(values) + ";"

    # -- milestones ----------------------------------------------------------

    def op_set_updated_at(self) -> Op:
        up = ["CREATE OR REPLACE FUNCTION set_updated_at()\n"
              "RETURNS trigger\n"
              "LANGUAGE plpgsql\n"
              "AS $$\n"
              "BEGIN\n"
              "    -- Keep updated_at honest even when the application forgets; a no-op\n"
              "    -- UPDATE still moves it.\n"
              "    NEW.updated_at := now();\n"
              "    RETURN NEW;\n"
              "END;\n"
              "$$;",
              "COMMENT ON FUNCTION set_updated_at() IS 'Trigger: sets NEW.updated_at; attach BEFORE UPDATE';"]
        down = []
        for t in self.tables.values():
            if t.col("updated_at") and not t.updated_trigger:
                trig = self.unique_name(obj_name(t.slug, "set_updated_at"))
                up.append(f"CREATE TRIGGER {trig}\n    BEFORE UPDATE ON {t.q}\n"
                          f"    FOR EACH ROW EXECUTE FUNCTION set_updated_at();")
                down.insert(0, f"DROP TRIGGER IF EXISTS {trig} ON {t.q};")
                t.updated_trigger = True
        down.append("DROP FUNCTION IF EXISTS set_updated_at();")
        self.flags["set_updated_at"] = self.i
        return Op("create_set_updated_at_function", "Add the set_updated_at trigger function", up, down)

    def audit_trigger_sql(self, t: Table) -> str:
        trig = self.unique_name(obj_name(t.slug, "audit"))
        t.audited = True
        t.audit_trigger = trig
        return (f"CREATE TRIGGER {trig}\n    AFTER INSERT OR UPDATE OR DELETE ON {t.q}\n"
                f"    FOR EACH ROW EXECUTE FUNCTION audit_row_change();")

    def op_audit(self) -> Op:
        t = Table("audit_log", "audit_entry", system=True)
        self.names.add("audit_log")
        t.cols = [Col("id", "identity"), Col("table_name", "name"), Col("operation", "vchar"),
                  Col("row_id", "bigint", null=True), Col("payload", "json"),
                  Col("changed_by", "text", default="current_user"), Col("changed_at", "ts", default="now()")]
        self.tables["audit_log"] = t
        up = ["/* Row-level audit trail.\n"
              "   The trigger function is generic: it stores the whole row as JSON, so\n"
              "   schema changes /* new columns, renamed ones */ need no change here. */",
              "CREATE TABLE audit_log (\n"
              "    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n"
              "    table_name text NOT NULL,\n"
              "    operation text NOT NULL CHECK (operation IN ('INSERT', 'UPDATE', 'DELETE')),\n"
              "    row_id bigint,\n"
              "    payload jsonb NOT NULL,\n"
              "    changed_by text NOT NULL DEFAULT current_user,\n"
              "    changed_at timestamptz NOT NULL DEFAULT now()\n"
              ");",
              "CREATE INDEX audit_log_table_row_idx ON audit_log (table_name, row_id);",
              "CREATE INDEX audit_log_changed_at_idx ON audit_log USING brin (changed_at);",
              "CREATE OR REPLACE FUNCTION audit_row_change()\n"
              "RETURNS trigger\n"
              "LANGUAGE plpgsql\n"
              "AS $fn$\n"
              "DECLARE\n"
              "    v_row jsonb;\n"
              "BEGIN\n"
              "    -- TG_OP is INSERT, UPDATE or DELETE; TRUNCATE is not audited.\n"
              "    IF TG_OP = 'DELETE' THEN\n"
              "        v_row := to_jsonb(OLD);\n"
              "    ELSE\n"
              "        v_row := to_jsonb(NEW);\n"
              "    END IF;\n"
              "    INSERT INTO audit_log (table_name, operation, row_id, payload)\n"
              "    VALUES (TG_TABLE_NAME, TG_OP, (v_row ->> 'id')::bigint, v_row);\n"
              "    IF TG_OP = 'DELETE' THEN\n"
              "        RETURN OLD;\n"
              "    END IF;\n"
              "    RETURN NEW;\n"
              "END;\n"
              "$fn$;",
              "COMMENT ON TABLE audit_log IS 'Row changes; written by audit_row_change(); kept 400 days';"]
        down_triggers = []
        for t2 in self.r.sample(self.entity_tables(), k=min(2, len(self.entity_tables()))):
            up.append(self.audit_trigger_sql(t2))
            down_triggers.insert(0, f"DROP TRIGGER IF EXISTS {t2.audit_trigger} ON {t2.q};")
        down = down_triggers + ["DROP FUNCTION IF EXISTS audit_row_change();", "DROP TABLE IF EXISTS audit_log;"]
        self.flags["audit"] = self.i
        return Op("create_audit_log", "Add a row-level audit log", up, down)

    def op_cents_function(self) -> Op:
        up = ["-- SQL-standard function bodies are parsed at creation time.",
              "CREATE FUNCTION to_cents(p_amount numeric)\n"
              "RETURNS bigint\n"
              "LANGUAGE sql\n"
              "IMMUTABLE\n"
              "PARALLEL SAFE\n"
              "RETURN round(p_amount * 100)::bigint;",
              "CREATE FUNCTION from_cents(p_cents bigint)\n"
              "RETURNS numeric\n"
              "LANGUAGE sql\n"
              "IMMUTABLE\n"
              "PARALLEL SAFE\n"
              "RETURN (p_cents / 100.0)::numeric(12,2);",
              "COMMENT ON FUNCTION to_cents(numeric) IS 'Major units to cents, e.g. 12.50 -> 1250';"]
        down = ["DROP FUNCTION from_cents(bigint);", "DROP FUNCTION to_cents(numeric);"]
        self.flags["cents"] = self.i
        return Op("create_money_helpers", "Add money helper functions", up, down)

    def op_email_domain(self) -> Op | None:
        cols = [(t, c) for t in self.tables.values() for c in t.cols
                if c.kind == "email" and not c.pinned and not c.domain]
        if not cols:
            return None
        up = ["CREATE DOMAIN email_address AS text\n"
              "    CONSTRAINT email_address_check CHECK (VALUE ~ '^[^@\\s]+@[^@\\s]+$');",
              "COMMENT ON DOMAIN email_address IS 'An e-mail address: something@something, no spaces';"]
        down = ["DROP DOMAIN email_address;"]
        for t, c in cols:
            up.append(f"ALTER TABLE {t.q} ALTER COLUMN {c.q} TYPE email_address;")
            down.insert(0, f"ALTER TABLE {t.q} ALTER COLUMN {c.q} TYPE {c.sqltype};")
            c.domain = True
        self.flags["email_domain"] = self.i
        return Op("add_email_address_domain", "Use an email_address domain for e-mail columns", up, down)

    def op_reporting(self) -> Op | None:
        up = ["CREATE SCHEMA reporting;",
              "COMMENT ON SCHEMA reporting IS 'Read models for dashboards; refreshed by the nightly job';"]
        down = ["DROP SCHEMA reporting;"]
        self.flags["reporting"] = self.i
        op = Op("create_reporting_schema", "Add the reporting schema", up, down)
        mv = self.op_matview()
        if mv:
            op.up += mv.up
            op.down = mv.down + op.down
        return op

    def op_events(self) -> Op | None:
        org = self.tables.get("organizations")
        if not org:
            return None
        t = Table("events", "event", system=True)
        self.names.add("events")
        t.cols = [Col("id", "identity"), Col("occurred_at", "ts"), Col("organization_id", "fk", ref="organizations"),
                  Col("kind", "vchar"), Col("payload", "json", default="'{}'::jsonb")]
        t.n0 = 600
        t.next_n = 601
        self.tables["events"] = t
        up = ["-- Product events, partitioned by month. Old partitions are detached and\n"
              "-- archived by the ops runbook; this migration only creates them.",
              "CREATE TABLE events (\n"
              "    id bigint GENERATED ALWAYS AS IDENTITY,\n"
              "    occurred_at timestamptz NOT NULL,\n"
              "    organization_id bigint NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,\n"
              "    kind varchar(120) NOT NULL,\n"
              "    payload jsonb NOT NULL DEFAULT '{}'::jsonb,\n"
              "    PRIMARY KEY (id, occurred_at)\n"
              ") PARTITION BY RANGE (occurred_at);",
              "DO $$\n"
              "DECLARE\n"
              "    m date := date '2024-01-01';\n"
              "BEGIN\n"
              "    WHILE m < date '2025-01-01' LOOP\n"
              "        EXECUTE format(\n"
              "            'CREATE TABLE %I PARTITION OF events FOR VALUES FROM (%L) TO (%L)',\n"
              "            'events_' || to_char(m, 'YYYY_MM'),\n"
              "            m::timestamptz,\n"
              "            (m + interval '1 month')::timestamptz\n"
              "        );\n"
              "        m := (m + interval '1 month')::date;\n"
              "    END LOOP;\n"
              "END\n"
              "$$;",
              "CREATE TABLE events_default PARTITION OF events DEFAULT;",
              "CREATE INDEX events_organization_occurred_idx ON events (organization_id, occurred_at);",
              "CREATE INDEX events_kind_idx ON events (kind) WHERE kind <> 'heartbeat';",
              "INSERT INTO events (occurred_at, organization_id, kind, payload)\n"
              "SELECT timestamptz '2024-01-01 00:00:00+00' + g * interval '7 hours',\n"
              f"       1 + (g - 1) % {org.n0},\n"
              "       (ARRAY['signup', 'login', 'checkout', 'heartbeat'])[1 + g % 4],\n"
              "       jsonb_build_object('seq', g, 'source', 'backfill; v1')\n"
              "FROM generate_series(1, 600) AS g;",
              "COMMENT ON TABLE events IS 'Product analytics events; partitioned by month (UTC)';"]
        down = ["DROP TABLE events;"]
        self.flags["events"] = self.i
        return Op("create_events", "Add the partitioned events table", up, down)

    def op_event_partitions(self) -> Op | None:
        if "events" not in self.flags:
            return None
        up = ["-- Partitions for 2025. The default partition holds no 2025 rows yet, so\n"
              "-- attaching them does not move data.",
              "DO $body$\n"
              "DECLARE\n"
              "    m date := date '2025-01-01';\n"
              "    n integer := 0;\n"
              "BEGIN\n"
              "    LOOP\n"
              "        EXIT WHEN m >= date '2026-01-01';\n"
              "        EXECUTE format(\n"
              "            'CREATE TABLE IF NOT EXISTS %I PARTITION OF events FOR VALUES FROM (%L) TO (%L)',\n"
              "            'events_' || to_char(m, 'YYYY_MM'), m::timestamptz,\n"
              "            (m + interval '1 month')::timestamptz);\n"
              "        n := n + 1;\n"
              "        m := (m + interval '1 month')::date;\n"
              "    END LOOP;\n"
              "    RAISE NOTICE 'created % partitions; next run: see the runbook', n;\n"
              "END\n"
              "$body$;"]
        down = ["DO $body$\n"
                "DECLARE\n"
                "    m date := date '2025-01-01';\n"
                "BEGIN\n"
                "    WHILE m < date '2026-01-01' LOOP\n"
                "        EXECUTE format('DROP TABLE IF EXISTS %I', 'events_' || to_char(m, 'YYYY_MM'));\n"
                "        m := (m + interval '1 month')::date;\n"
                "    END LOOP;\n"
                "END\n"
                "$body$;"]
        self.flags["event_partitions"] = self.i
        return Op("create_events_2025_partitions", "Add 2025 partitions to events", up, down)

    def op_order_totals(self) -> Op | None:
        orders = self.tables.get("orders")
        items = self.tables.get("Order Items")
        if not orders or not items or "set_updated_at" not in self.flags:
            return None
        total = orders.col("total_amount")
        for c in (total, items.col("quantity"), items.col("Unit Price"), items.col("order_id")):
            if c is None:
                return None
            c.pinned = True
        up = ["/*\n * Keep orders.total_amount in step with its items.\n"
              " * The sum used to be computed by the API /* see OrderService.total */ and\n"
              " * drifted when items were edited by support.\n */",
              "CREATE OR REPLACE FUNCTION refresh_order_total()\n"
              "RETURNS trigger\n"
              "LANGUAGE plpgsql\n"
              "AS $body$\n"
              "DECLARE\n"
              "    v_order_id bigint;\n"
              "BEGIN\n"
              "    IF TG_OP = 'DELETE' THEN\n"
              "        v_order_id := OLD.order_id;\n"
              "    ELSE\n"
              "        v_order_id := NEW.order_id;\n"
              "    END IF;\n"
              "    UPDATE orders\n"
              "       SET total_amount = (SELECT coalesce(sum(i.quantity * i.\"Unit Price\"), 0)\n"
              "                             FROM \"Order Items\" AS i\n"
              "                            WHERE i.order_id = v_order_id)\n"
              "     WHERE id = v_order_id;\n"
              "    IF NOT FOUND THEN\n"
              "        RAISE WARNING 'order % vanished while its items changed; total not updated', v_order_id;\n"
              "    END IF;\n"
              "    RETURN NULL;  -- AFTER trigger: the result is ignored\n"
              "END;\n"
              "$body$;",
              "CREATE TRIGGER order_items_refresh_total\n"
              "    AFTER INSERT OR UPDATE OR DELETE ON \"Order Items\"\n"
              "    FOR EACH ROW EXECUTE FUNCTION refresh_order_total();"]
        backfill = ["-- One-off: bring existing totals in line.",
              "UPDATE orders AS o\n"
              "   SET total_amount = s.total\n"
              "  FROM (SELECT order_id, sum(quantity * \"Unit Price\") AS total\n"
              "          FROM \"Order Items\"\n"
              "         GROUP BY order_id) AS s\n"
              " WHERE s.order_id = o.id\n"
              "   AND o.total_amount IS DISTINCT FROM s.total;"]
        if not self.tail:
            up += backfill
        down = ["DROP TRIGGER IF EXISTS order_items_refresh_total ON \"Order Items\";",
                "DROP FUNCTION IF EXISTS refresh_order_total();"]
        self.flags["order_totals"] = self.i
        return Op("keep_order_totals_in_step", "Maintain orders.total_amount with a trigger", up, down,
                  exact=self.tail)

    def op_purge_audit(self) -> Op | None:
        if "audit" not in self.flags:
            return None
        up = ["CREATE PROCEDURE purge_audit_log(p_keep interval)\n"
              "LANGUAGE sql\n"
              "BEGIN ATOMIC\n"
              "    DELETE FROM audit_log\n"
              "     WHERE changed_at < now() - p_keep\n"
              "       AND operation = 'UPDATE';\n"
              "    DELETE FROM audit_log\n"
              "     WHERE changed_at < now() - p_keep * 2;\n"
              "END;",
              "COMMENT ON PROCEDURE purge_audit_log(interval) IS "
              "'Deletes old audit rows; updates go first, inserts and deletes are kept twice as long';"]
        down = ["DROP PROCEDURE purge_audit_log(interval);"]
        self.flags["purge_audit"] = self.i
        return Op("create_purge_audit_log_procedure", "Add a procedure that purges old audit rows", up, down)

    # -- everyday changes ----------------------------------------------------

    def op_add_columns(self, t: Table) -> Op | None:
        pool = [p for p in ADD_POOL if t.col(p[0]) is None]
        if not pool:
            return None
        chosen = self.r.sample(pool, k=min(len(pool), self.pick([1, 1, 2, 2, 3])))
        up, down, added = [], [], []
        for name, kind, null, default, legacy in chosen:
            c = Col(name, kind, null=null, default=default)
            c.legacy = legacy
            clause = f"ADD COLUMN {c.q} {c.sqltype}"
            if not null:
                clause += " NOT NULL"
            if default is not None:
                clause += f" DEFAULT {default}"
            t.cols.append(c)
            added.append((c, clause))
        if len(added) > 1 and self.chance(0.5):
            up.append(f"ALTER TABLE {t.q}\n    " + ",\n    ".join(cl for _, cl in added) + ";")
        else:
            up += [f"ALTER TABLE {t.q} {cl};" for _, cl in added]
        drops = [c for c, _ in reversed(added)]
        extra_down: list[str] = []
        for c, _ in added:
            if c.name == "external_ref":
                up.append("-- Existing rows get a reference derived from their id.")
                up.append(f"UPDATE {t.q} SET external_ref = 'ext-' || id WHERE external_ref IS NULL;")
            elif c.name == "archived_at" and t.col("is_archived"):
                up.append(f"UPDATE {t.q} SET archived_at = now() WHERE is_archived;")
            elif c.name == "public_id" and self.chance(0.7):
                idx = self.unique_name(obj_name(t.slug, "public_id", "key"))
                up.append(f"CREATE UNIQUE INDEX {idx} ON {t.q} (public_id);")
                extra_down.insert(0, f"DROP INDEX IF EXISTS {idx};")
                t.index_sigs.append("public_id")
            elif c.kind == "money" and self.chance(0.6):
                con = self.unique_name(obj_name(t.slug, c.name, "check"))
                up.append(f"ALTER TABLE {t.q} ADD CONSTRAINT {con} CHECK ({c.q} >= 0);")
                c.checked = True
            elif c.name == "updated_at" and "set_updated_at" in self.flags and not t.updated_trigger:
                trig = self.unique_name(obj_name(t.slug, "set_updated_at"))
                up.append(f"CREATE TRIGGER {trig}\n    BEFORE UPDATE ON {t.q}\n"
                          f"    FOR EACH ROW EXECUTE FUNCTION set_updated_at();")
                extra_down.insert(0, f"DROP TRIGGER IF EXISTS {trig} ON {t.q};")
                t.updated_trigger = True
            if self.chance(0.3) and not c.legacy:
                c.comment = self.comment_literal(c.kind)
                up.append(f"COMMENT ON COLUMN {t.q}.{c.q} IS {c.comment};")
        if len(drops) > 1 and self.chance(0.5):
            down = extra_down + [f"ALTER TABLE {t.q}\n    " +
                                 ",\n    ".join(f"DROP COLUMN {c.q}" for c in drops) + ";"]
        else:
            down = extra_down + [f"ALTER TABLE {t.q} DROP COLUMN {'IF EXISTS ' if self.chance(0.3) else ''}{c.q};"
                                 for c in drops]
        names = [c.name for c, _ in added]
        desc = f"add_{'_and_'.join(names)}_to_{t.slug}" if len(names) <= 2 else f"add_{names[0]}_and_more_to_{t.slug}"
        return Op(desc, f"Add {', '.join(names)} to {t.name}", up, down)

    def op_add_fk_column(self, t: Table) -> Op | None:
        parents = [p for p in self.entity_tables() if p is not t and p.n0 > 0 and p.name != "Order Items"]
        if not parents:
            return None
        p = self.pick(parents)
        name = f"{p.singular}_id"
        if t.col(name):
            name = f"related_{p.singular}_id"
            if t.col(name):
                return None
        c = Col(name, "fk", null=True, ref=p.name, on_delete="SET NULL")
        t.cols.append(c)
        con = self.unique_name(obj_name(t.slug, name, "fkey"))
        idx = self.unique_name(obj_name(t.slug, name, "idx"))
        t.index_sigs.append(name)
        up = [f"ALTER TABLE {t.q} ADD COLUMN {c.q} bigint;",
              "-- Backfill before adding the constraint, then validate it separately so the\n"
              "-- ADD CONSTRAINT itself takes only a brief lock.",
              f"UPDATE {t.q} SET {c.q} = 1 + (id - 1) % {p.n0} WHERE {c.q} IS NULL;",
              f"ALTER TABLE {t.q}\n    ADD CONSTRAINT {con} FOREIGN KEY ({c.q})\n"
              f"    REFERENCES {p.q} (id) ON DELETE SET NULL NOT VALID;",
              f"ALTER TABLE {t.q} VALIDATE CONSTRAINT {con};",
              f"CREATE INDEX {idx} ON {t.q} ({c.q});"]
        down = [f"DROP INDEX IF EXISTS {idx};",
                f"ALTER TABLE {t.q} DROP CONSTRAINT IF EXISTS {con};",
                f"ALTER TABLE {t.q} DROP COLUMN {c.q};"]
        return Op(f"link_{t.slug}_to_{p.slug}", f"Link {t.name} to {p.name}", up, down)

    def op_add_index(self, t: Table, conditional: bool = False) -> Op | None:
        cands = []
        for c in t.cols:
            if c.legacy or c.kind in ("identity", "gen"):
                continue
            if c.kind in ("email", "name"):
                cands.append((f"lower({c.name})", [c.name, "lower"], f"(lower({c.q}))", None, c))
            if c.kind == "json":
                cands.append((f"gin {c.name}", [c.name, "gin"], f"USING gin ({c.q} jsonb_path_ops)", None, c))
                cands.append((f"{c.name}->>tag", [c.name, "tag"], f"(({c.q} ->> 'tag'))", None, c))
            if c.kind == "arr":
                cands.append((f"gin {c.name}", [c.name, "gin"], f"USING gin ({c.q})", None, c))
            if c.kind in ("vchar", "code", "date", "currency", "country", "bigint", "count"):
                cands.append((c.name, [c.name], f"({c.q})", None, c))
            if c.kind == "ts" and c.null:
                cands.append((f"{c.name} partial", [c.name], f"({c.q})", f"{c.q} IS NOT NULL", c))
        created = t.col("created_at")
        for c in t.cols:
            if c.kind == "fk" and created and not c.legacy:
                cands.append((f"{c.name},created_at", [c.name, "created_at"],
                              f"({c.q}, created_at DESC)", None, c))
        for flag in ("archived_at", "deleted_at"):
            fc = t.col(flag)
            if fc and created:
                cands.append((f"created_at where {flag} null", ["created_at", "live"],
                              "(created_at)", f"{flag} IS NULL", fc))
        bc = [c for c in t.cols_of("bool")]
        if bc and created:
            b = self.pick(bc)
            cands.append((f"created_at where {b.name}", ["created_at", b.name],
                          "(created_at)", f"{b.q}", b))
        cands = [x for x in cands if x[0] not in t.index_sigs]
        if not cands:
            return None
        sig, parts, expr, where, _ = self.pick(cands)
        t.index_sigs.append(sig)
        idx = self.unique_name(obj_name(t.slug, *parts, "idx"))
        stmt = f"CREATE INDEX {idx} ON {t.q} {expr}" + (f" WHERE {where}" if where else "") + ";"
        if conditional:
            body = stmt.replace("CREATE INDEX", "CREATE INDEX IF NOT EXISTS", 1)
            up = ["-- Some environments got this index by hand during the incident of\n"
                  "-- March; create it only where it is missing.",
                  "DO $$\n"
                  "BEGIN\n"
                  "    IF NOT EXISTS (\n"
                  "        SELECT 1 FROM pg_indexes\n"
                  f"         WHERE schemaname = current_schema() AND indexname = '{idx}'\n"
                  "    ) THEN\n"
                  f"        EXECUTE {lit(body[:-1])};\n"
                  "    ELSE\n"
                  f"        RAISE NOTICE 'index % already exists; skipped', '{idx}';\n"
                  "    END IF;\n"
                  "END $$;"]
        else:
            up = [stmt]
        down = [f"DROP INDEX {'IF EXISTS ' if self.chance(0.6) else ''}{idx};"]
        return Op(f"index_{t.slug}_on_{'_'.join(slugify(p) for p in parts)}",
                  f"Index {t.name} on {', '.join(parts)}", up, down)

    def op_add_check(self, t: Table) -> Op | None:
        cands = []
        for c in t.cols:
            if c.legacy or c.checked:
                continue
            if c.kind == "count":
                cands.append((c, f"{c.q} >= 0", "nonnegative"))
            elif c.kind == "qty":
                cands.append((c, f"{c.q} > 0", "positive"))
            elif c.kind == "vchar":
                cands.append((c, f"char_length({c.q}) <= 120", "length"))
            elif c.kind == "json":
                cands.append((c, f"jsonb_typeof({c.q}) = 'object'", "object"))
            elif c.kind == "ts":
                cands.append((c, f"{c.q} >= timestamptz '2000-01-01 00:00:00+00'", "sane"))
            elif c.kind == "name":
                cands.append((c, f"btrim({c.q}) <> ''", "not_blank"))
            elif c.kind == "money":
                cands.append((c, f"{c.q} >= 0", "nonnegative"))
        if not cands:
            return None
        c, expr, what = self.pick(cands)
        c.checked = True
        con = self.unique_name(obj_name(t.slug, c.name, what, "check"))
        up = [f"ALTER TABLE {t.q}\n    ADD CONSTRAINT {con} CHECK ({expr}) NOT VALID;",
              f"ALTER TABLE {t.q} VALIDATE CONSTRAINT {con};"]
        if self.chance(0.4):
            up.append(f"COMMENT ON CONSTRAINT {con} ON {t.q} IS {lit('Added after bad data from the import job; ' + what)};")
        down = [f"ALTER TABLE {t.q} DROP CONSTRAINT {'IF EXISTS ' if self.chance(0.5) else ''}{con};"]
        return Op(f"check_{t.slug}_{slugify(c.name)}_{what}", f"Check {t.name}.{c.name} ({what})", up, down)

    def op_enum_column(self) -> Op | None:
        cands = [e for e in ENUM_SPECS if e[0] not in self.enums and e[1] in self.tables
                 and self.tables[e[1]].col(e[2]) is None]
        if not cands:
            return None
        name, tname, cname, values, later = self.pick(cands)
        t = self.tables[tname]
        e = Enum(name, tname, cname, values, later)
        self.enums[name] = e
        self.names.add(name)
        c = Col(cname, "enum", default=f"'{values[0]}'")
        c.enum = name
        c.sqltype = name
        t.cols.append(c)
        idx = self.unique_name(obj_name(t.slug, cname, "idx"))
        t.index_sigs.append(cname)
        vals = ", ".join(lit(v) for v in values)
        e.comment = lit('Lifecycle of ' + t.name + '; order matters: later states sort after earlier ones')
        up = [f"CREATE TYPE {name} AS ENUM ({vals});",
              f"ALTER TABLE {t.q}\n    ADD COLUMN {cname} {name} NOT NULL DEFAULT '{values[0]}';",
              f"-- Rows that predate the column: every fifth one had reached '{values[1]}'.",
              f"UPDATE {t.q} SET {cname} = '{values[1]}' WHERE id % 5 = 0;",
              f"CREATE INDEX {idx} ON {t.q} ({cname}) WHERE {cname} <> '{values[0]}';",
              f"COMMENT ON TYPE {name} IS {e.comment};"]
        down = [f"DROP INDEX IF EXISTS {idx};",
                f"ALTER TABLE {t.q} DROP COLUMN {cname};",
                f"DROP TYPE {name};"]
        return Op(f"add_{cname}_to_{t.slug}", f"Add {name} and {t.name}.{cname}", up, down)

    def op_enum_add_value(self) -> Op | None:
        cands = [e for e in self.enums.values() if e.later]
        if not cands:
            return None
        e = self.pick(cands)
        up = ["-- ALTER TYPE ... ADD VALUE cannot be undone, and the new value cannot be\n"
              "-- used in the transaction that adds it: code that writes it ships later."]
        added = []
        for _ in range(self.pick([1, 1, 2])):
            if not e.later:
                break
            value, where = e.later.pop(0)
            if where and where[1] not in e.values:
                where = None
            clause = f"ALTER TYPE {e.name} ADD VALUE {'IF NOT EXISTS ' if self.chance(0.4) else ''}'{value}'"
            if where:
                clause += f" {where[0]} '{where[1]}'"
                pos = e.values.index(where[1]) + (1 if where[0] == "AFTER" else 0)
                e.values.insert(pos, value)
            else:
                e.values.append(value)
            up.append(clause + ";")
            e.usable_from[value] = self.i + 1
            added.append(value)
        return Op(f"add_{'_'.join(added)}_to_{e.name}", f"Add {', '.join(added)} to {e.name}", up, None)

    def op_enum_use(self) -> Op | None:
        cands = [(e, v) for e in self.enums.values() for v, start in e.usable_from.items()
                 if start <= self.i and v not in e.used and v in e.values]
        if not cands:
            return None
        e, v = self.pick(cands)
        e.used.append(v)
        t = self.tables[e.table]
        idx = self.unique_name(obj_name(t.slug, e.column, v, "idx"))
        order = "created_at" if t.col("created_at") else "id"
        up = [f"-- '{v}' was added to {e.name} in an earlier migration; it is safe to use now.",
              f"CREATE INDEX {idx} ON {t.q} ({order}) WHERE {e.column} = '{v}';"]
        down = [f"DROP INDEX IF EXISTS {idx};"]
        exact = True
        if not self.tail and self.chance(0.5):
            up.append(f"UPDATE {t.q} SET {e.column} = '{v}' WHERE id % 97 = 0;")
            exact = False
        return Op(f"index_{t.slug}_{e.column}_{v}", f"Index {t.name} rows in state {v}", up, down, exact=exact)

    def op_enum_rename(self) -> Op | None:
        cands = [(e, v) for e in self.enums.values() for v in e.values[1:] if v in ENUM_RENAMES
                 and ENUM_RENAMES[v] not in e.values]
        if not cands:
            return None
        e, v = self.pick(cands)
        new = ENUM_RENAMES[v]
        e.values[e.values.index(v)] = new
        old_comment = e.comment
        e.comment = lit(f"Lifecycle of {e.table}; '{v}' is now '{new}'")
        up = [f"ALTER TYPE {e.name} RENAME VALUE '{v}' TO '{new}';",
              f"COMMENT ON TYPE {e.name} IS {e.comment};"]
        down = [f"COMMENT ON TYPE {e.name} IS {old_comment or 'NULL'};",
                f"ALTER TYPE {e.name} RENAME VALUE '{new}' TO '{v}';"]
        return Op(f"rename_{e.name}_{v}_to_{new}", f"Rename {e.name} value {v} to {new}", up, down)

    def op_set_default(self, t: Table) -> Op | None:
        cands = []
        for c in t.cols:
            if c.legacy or c.kind in ("identity", "gen", "seq", "enum", "fk", "uuid", "code", "email"):
                continue
            if c.kind == "bool":
                cands.append((c, "true" if c.default == "false" else "false"))
            elif c.kind == "count":
                cands.append((c, "10" if c.default == "0" else "0"))
            elif c.kind == "ts" and c.null and c.default is None and c.name not in ("archived_at", "deleted_at"):
                cands.append((c, "now()"))
            elif c.kind == "text" and c.default is None:
                cands.append((c, "''"))
            elif c.kind == "vchar" and c.default is None:
                cands.append((c, "'unknown'"))
            elif c.kind == "date" and c.default is None:
                cands.append((c, "CURRENT_DATE + 30"))
        if not cands:
            return None
        c, new = self.pick(cands)
        old = c.default
        c.default = new
        up = [f"ALTER TABLE {t.q} ALTER COLUMN {c.q} SET DEFAULT {new};"]
        down = [f"ALTER TABLE {t.q} ALTER COLUMN {c.q} " + (f"SET DEFAULT {old};" if old else "DROP DEFAULT;")]
        return Op(f"default_{t.slug}_{slugify(c.name)}", f"Default {t.name}.{c.name} to {new}", up, down)

    def op_set_not_null(self, t: Table) -> Op | None:
        cands = [c for c in t.cols if c.null and not c.legacy
                 and c.kind in ("text", "vchar", "bool", "ts", "money", "count", "json", "date")]
        if not cands:
            return None
        c = self.pick(cands)
        c.null = False
        up = [f"-- Backfill, then forbid NULLs. Old rows get a value derived from their id.",
              f"UPDATE {t.q} SET {c.q} = {self.value_sql(t, c, 'id')} WHERE {c.q} IS NULL;",
              f"ALTER TABLE {t.q} ALTER COLUMN {c.q} SET NOT NULL;"]
        down = [f"ALTER TABLE {t.q} ALTER COLUMN {c.q} DROP NOT NULL;"]
        return Op(f"require_{t.slug}_{slugify(c.name)}", f"Make {t.name}.{c.name} NOT NULL", up, down,
                  exact=False)

    def op_widen(self, t: Table) -> Op | None:
        cands = [c for c in t.cols if c.kind == "vchar" and not c.pinned and not c.legacy
                 and c.sqltype in ("varchar(120)", "varchar(255)")]
        if not cands:
            return None
        c = self.pick(cands)
        old = c.sqltype
        new = "varchar(255)" if old == "varchar(120)" else "text"
        c.sqltype = new
        up = [f"ALTER TABLE {t.q} ALTER COLUMN {c.q} TYPE {new};"]
        if self.chance(0.3):
            up.insert(0, "-- Partners send longer values than we planned for.")
        down = [f"ALTER TABLE {t.q} ALTER COLUMN {c.q} TYPE {old};"]
        return Op(f"widen_{t.slug}_{slugify(c.name)}", f"Widen {t.name}.{c.name} to {new}", up, down)

    def op_rename_column(self, t: Table) -> Op | None:
        cands = [c for c in t.cols if c.name in RENAMES and not c.pinned and not c.legacy
                 and t.col(RENAMES[c.name]) is None]
        if not cands:
            return None
        c = self.pick(cands)
        old = c.name
        c.name = RENAMES[old]
        up = [f"ALTER TABLE {t.q} RENAME COLUMN {qi(old)} TO {c.q};"]
        if self.chance(0.4):
            up.insert(0, "-- The API has used the new name for a while; the column catches up.")
        down = [f"ALTER TABLE {t.q} RENAME COLUMN {c.q} TO {qi(old)};"]
        return Op(f"rename_{t.slug}_{slugify(old)}_to_{slugify(c.name)}",
                  f"Rename {t.name}.{old} to {c.name}", up, down)

    def op_comments(self, t: Table) -> Op | None:
        up, down = [], []
        if self.chance(0.6):
            old = t.comment
            t.comment = self.table_comment(t)
            up.append(f"COMMENT ON TABLE {t.q} IS {t.comment};")
            down.insert(0, f"COMMENT ON TABLE {t.q} IS {old or 'NULL'};")
        cols = [c for c in t.cols if c.kind != "identity" and not c.legacy]
        for c in self.r.sample(cols, k=min(len(cols), self.r.randint(1, 3))):
            old = c.comment
            c.comment = self.comment_literal(c.kind)
            up.append(f"COMMENT ON COLUMN {t.q}.{c.q} IS {c.comment};")
            down.insert(0, f"COMMENT ON COLUMN {t.q}.{c.q} IS {old or 'NULL'};")
        return Op(f"document_{t.slug}", f"Document {t.name}", up, down)

    def op_trigger_updated_at(self) -> Op | None:
        if "set_updated_at" not in self.flags:
            return None
        cands = [t for t in self.tables.values() if t.col("updated_at") and not t.updated_trigger]
        if not cands:
            return None
        up, down = [], []
        for t in cands[:3]:
            trig = self.unique_name(obj_name(t.slug, "set_updated_at"))
            up.append(f"CREATE TRIGGER {trig}\n    BEFORE UPDATE ON {t.q}\n"
                      f"    FOR EACH ROW EXECUTE FUNCTION set_updated_at();")
            down.insert(0, f"DROP TRIGGER {trig} ON {t.q};")
            t.updated_trigger = True
        return Op(f"maintain_{cands[0].slug}_updated_at", f"Maintain updated_at on {cands[0].name}", up, down)

    def op_audit_table(self, t: Table) -> Op | None:
        if "audit" not in self.flags or t.audited:
            return None
        up = [self.audit_trigger_sql(t)]
        down = [f"DROP TRIGGER IF EXISTS {t.audit_trigger} ON {t.q};"]
        return Op(f"audit_{t.slug}", f"Audit changes to {t.name}", up, down)

    def op_plpgsql(self, t: Table) -> Op | None:
        variants = []
        names = t.cols_of("name")
        money = [c for c in t.cols_of("money")]
        created = t.col("created_at")
        if names:
            variants.append("label")
        if created:
            variants.append("stats")
        if money and names:
            variants.append("validate")
        if not variants:
            return None
        v = self.pick(variants)
        if v == "label":
            c = self.pick(names)
            c.pinned = True
            fn = self.unique_name(obj_name(t.singular, "label"))
            tag = self.pick(["$$", "$body$"])
            up = [f"CREATE OR REPLACE FUNCTION {fn}(p_id bigint)\n"
                  "RETURNS text\n"
                  "LANGUAGE plpgsql\n"
                  "STABLE\n"
                  f"AS {tag}\n"
                  "DECLARE\n"
                  "    v_name text;\n"
                  "BEGIN\n"
                  f"    SELECT {c.q} INTO v_name FROM {t.q} WHERE id = p_id;\n"
                  "    IF NOT FOUND THEN\n"
                  f"        RAISE EXCEPTION '{t.singular} % not found; check the id', p_id\n"
                  "            USING ERRCODE = 'no_data_found';\n"
                  "    END IF;\n"
                  "    -- e.g. 'Acme (#42)'; a literal $ or ; in the name is kept as is\n"
                  "    RETURN format('%s (#%s)', v_name, p_id);\n"
                  "END;\n"
                  f"{tag};",
                  f"COMMENT ON FUNCTION {fn}(bigint) IS {lit('Display label for one ' + t.singular.replace('_', ' ') + '; raises if missing')};"]
            if self.chance(0.4):
                up.append("-- Smoke test: the first row always exists.\n"
                          f"DO $$ BEGIN PERFORM {fn}(1); END $$;")
            down = [f"DROP FUNCTION {fn}(bigint);"]
            return Op(f"create_{fn}_function", f"Add {fn}()", up, down)
        if v == "stats":
            created.pinned = True
            fn = self.unique_name(obj_name(t.slug, "daily_counts"))
            up = [f"CREATE OR REPLACE FUNCTION {fn}(p_days integer DEFAULT 30)\n"
                  "RETURNS TABLE (day date, n bigint)\n"
                  "LANGUAGE plpgsql\n"
                  "STABLE\n"
                  "AS $fn$\n"
                  "DECLARE\n"
                  "    d date;\n"
                  "BEGIN\n"
                  "    IF p_days <= 0 OR p_days > 366 THEN\n"
                  "        RAISE EXCEPTION 'p_days must be in 1..366; got %', p_days;\n"
                  "    END IF;\n"
                  "    d := current_date - p_days;\n"
                  "    LOOP\n"
                  "        EXIT WHEN d > current_date;\n"
                  "        day := d;\n"
                  "        -- $1 below is the EXECUTE parameter, not this function's argument.\n"
                  "        EXECUTE format($q$SELECT count(*) FROM %I WHERE created_at >= $1 AND created_at < $1 + 1$q$,\n"
                  f"                       {lit(t.name)})\n"
                  "            INTO n\n"
                  "            USING d;\n"
                  "        RETURN NEXT;\n"
                  "        d := d + 1;\n"
                  "    END LOOP;\n"
                  "END;\n"
                  "$fn$;"]
            down = [f"DROP FUNCTION IF EXISTS {fn}(integer);"]
            return Op(f"create_{fn}_function", f"Add {fn}()", up, down)
        m = self.pick(money)
        nm = self.pick(names)
        m.pinned = True
        nm.pinned = True
        fn = self.unique_name(obj_name(t.slug, "validate"))
        trig = self.unique_name(obj_name(t.slug, "validate", "trg"))
        up = [f"CREATE FUNCTION {fn}()\n"
              "RETURNS trigger\n"
              "LANGUAGE plpgsql\n"
              "AS $$\n"
              "BEGIN\n"
              f"    IF NEW.{m.q} < 0 THEN\n"
              f"        RAISE EXCEPTION 'negative {m.name} (%); amounts are major units, e.g. $12.50', NEW.{m.q};\n"
              "    END IF;\n"
              f"    IF NEW.{nm.q} IS NOT NULL AND length(btrim(NEW.{nm.q})) = 0 THEN\n"
              f"        RAISE EXCEPTION 'blank {nm.name}; use NULL instead';\n"
              "    END IF;\n"
              "    RETURN NEW;\n"
              "END;\n"
              "$$;",
              f"CREATE TRIGGER {trig}\n    BEFORE INSERT OR UPDATE ON {t.q}\n"
              f"    FOR EACH ROW EXECUTE FUNCTION {fn}();"]
        down = [f"DROP TRIGGER IF EXISTS {trig} ON {t.q};", f"DROP FUNCTION IF EXISTS {fn}();"]
        return Op(f"validate_{t.slug}", f"Validate {t.name} rows in a trigger", up, down)

    def op_atomic(self, t: Table) -> Op | None:
        variants = []
        created = t.col("created_at")
        money = t.cols_of("money")
        bools = t.cols_of("bool")
        if created:
            variants.append("count")
        if money:
            variants.append("bucket")
        if bools and created:
            variants.append("procedure")
        if not variants:
            return None
        v = self.pick(variants)
        if v == "count":
            created.pinned = True
            fn = self.unique_name(obj_name(t.slug, "count_since"))
            up = [f"CREATE FUNCTION {fn}(p_since timestamptz)\n"
                  "RETURNS bigint\n"
                  "LANGUAGE sql\n"
                  "STABLE\n"
                  "BEGIN ATOMIC\n"
                  f"    SELECT count(*) FROM {t.q} WHERE created_at >= p_since;\n"
                  "END;"]
            down = [f"DROP FUNCTION {fn}(timestamptz);"]
        elif v == "bucket":
            m = self.pick(money)
            m.pinned = True
            fn = self.unique_name(obj_name(t.singular, m.name, "bucket"))
            up = ["-- Buckets match the ones in the finance dashboard; keep them in step.",
                  f"CREATE FUNCTION {fn}(p_id bigint)\n"
                  "RETURNS text\n"
                  "LANGUAGE sql\n"
                  "STABLE\n"
                  "BEGIN ATOMIC\n"
                  "    SELECT CASE\n"
                  f"               WHEN {m.q} >= 1000 THEN 'large'\n"
                  f"               WHEN {m.q} >= 100 THEN 'medium'\n"
                  "               ELSE 'small'\n"
                  "           END\n"
                  f"      FROM {t.q}\n"
                  "     WHERE id = p_id;\n"
                  "END;"]
            down = [f"DROP FUNCTION {fn}(bigint);"]
        else:
            b = self.pick(bools)
            b.pinned = True
            created.pinned = True
            fn = self.unique_name(obj_name("mark", t.slug, b.name))
            up = [f"CREATE PROCEDURE {fn}(p_before timestamptz)\n"
                  "LANGUAGE sql\n"
                  "BEGIN ATOMIC\n"
                  f"    UPDATE {t.q} SET {b.q} = true WHERE created_at < p_before AND NOT {b.q};\n"
                  f"    UPDATE {t.q} SET {b.q} = false WHERE created_at >= p_before AND {b.q};\n"
                  "END;",
                  f"COMMENT ON PROCEDURE {fn}(timestamptz) IS {lit('Run by the nightly job: CALL ' + fn + '(now() - interval ' + chr(39) + '90 days' + chr(39) + ');')};"]
            down = [f"DROP PROCEDURE {fn}(timestamptz);"]
        return Op(f"create_{fn}", f"Add {fn}", up, down)

    def view_parts(self, t: Table) -> tuple[str, list[Col]] | None:
        fks = [c for c in t.cols if c.kind == "fk" and not c.legacy and c.ref != t.name
               and self.tables[c.ref].cols_of("name")]
        plain = [c for c in t.cols if c.kind in ("name", "money", "ts", "code", "bool", "count", "qty")
                 and not c.legacy]
        if not plain:
            return None
        cols = plain[:3]
        for c in cols:
            c.pinned = True
        select_cols = ["t.id"] + [f"t.{c.q}" for c in cols]
        if fks:
            fk = self.pick(fks)
            fk.pinned = True
            p = self.tables[fk.ref]
            pn = p.cols_of("name")[0]
            pn.pinned = True
            select_cols.append(f"p.{pn.q} AS {p.singular}_{slugify(pn.name)}")
            sql = ("SELECT " + ",\n       ".join(select_cols) + f"\n  FROM {t.q} AS t\n"
                   f"  JOIN {p.q} AS p ON p.id = t.{fk.q}")
        else:
            sql = "SELECT " + ",\n       ".join(select_cols) + f"\n  FROM {t.q} AS t"
        return sql, cols

    def op_view(self, t: Table) -> Op | None:
        if any(v.table == t.name for v in self.views.values()):
            return None
        parts = self.view_parts(t)
        if not parts:
            return None
        sql, _ = parts
        schema = "reporting." if "reporting" in self.flags and self.chance(0.5) else ""
        name = schema + self.unique_name(obj_name(t.slug, "overview"))
        comment = lit(f"{title_of(t.singular)}s with their parent's name; used by the admin UI")
        self.views[name] = View(name, t.name, sql, comment)
        up = [f"CREATE VIEW {name} AS\n{sql};", f"COMMENT ON VIEW {name} IS {comment};"]
        down = [f"DROP VIEW {name};"]
        return Op(f"create_{slugify(name)}_view", f"Add view {name}", up, down)

    def op_replace_view(self) -> Op | None:
        cands = [v for v in self.views.values() if not v.extended]
        if not cands:
            return None
        v = self.pick(cands)
        t = self.tables[v.table]
        extra = [c for c in t.cols if c.kind in ("ts", "vchar", "count", "money", "bool", "date")
                 and not c.legacy and f"t.{c.q}" not in v.select]
        if not extra:
            return None
        c = self.pick(extra)
        c.pinned = True
        old = v.select
        lines = old.split("\n")
        first_from = next(i for i, line in enumerate(lines) if line.lstrip().startswith("FROM"))
        lines[first_from - 1] += f",\n       t.{c.q}"
        v.select = "\n".join(lines)
        v.extended = True
        up = ["-- New columns go at the end: CREATE OR REPLACE VIEW cannot reorder them.",
              f"CREATE OR REPLACE VIEW {v.name} AS\n{v.select};"]
        down = ["-- A view cannot lose a column in place: recreate it.",
                f"DROP VIEW {v.name};",
                f"CREATE VIEW {v.name} AS\n{old};",
                f"COMMENT ON VIEW {v.name} IS {v.comment};"]
        return Op(f"add_{slugify(c.name)}_to_{slugify(v.name)}", f"Add {c.name} to view {v.name}", up, down)

    def op_matview(self) -> Op | None:
        if "reporting" not in self.flags:
            return None
        cands = [t for t in self.entity_tables() if t.col("created_at") and t.name not in self.matviews]
        if not cands:
            return None
        t = self.pick(cands)
        created = t.col("created_at")
        created.pinned = True
        money = t.cols_of("money")
        name = f"reporting.{self.unique_name(obj_name(t.slug, 'daily'))}"
        self.matviews[t.name] = name
        cols = ["date_trunc('day', created_at) AS day", "count(*) AS row_count"]
        if money:
            m = money[0]
            m.pinned = True
            cols.append(f"sum({m.q}) AS total_{slugify(m.name)}")
        idx = self.unique_name(obj_name(t.slug, "daily", "day", "idx"))
        up = [f"CREATE MATERIALIZED VIEW {name} AS\n"
              "SELECT " + ",\n       ".join(cols) + f"\n  FROM {t.q}\n GROUP BY 1\nWITH DATA;",
              f"CREATE UNIQUE INDEX {idx} ON {name} (day);",
              f"COMMENT ON MATERIALIZED VIEW {name} IS 'Refreshed nightly; use REFRESH ... CONCURRENTLY';"]
        down = [f"DROP MATERIALIZED VIEW {name};"]
        return Op(f"create_{t.slug}_daily_report", f"Add a daily report of {t.name}", up, down)

    def op_refresh(self) -> Op | None:
        if not self.matviews:
            return None
        name = self.matviews[self.pick(list(self.matviews))]
        if name in self.refreshed:
            return None
        self.refreshed.append(name)
        conc = "CONCURRENTLY " if self.chance(0.5) else ""
        return Op(f"refresh_{slugify(name)}", f"Refresh {name}",
                  [f"REFRESH MATERIALIZED VIEW {conc}{name};"], [])

    def op_lookup_seed(self) -> Op | None:
        cands = [n for n in LATER_SEEDS if n in self.tables and self.seeds_used.get(n, 0) < len(LATER_SEEDS[n])]
        if not cands:
            return None
        name = self.pick(cands)
        batch = LATER_SEEDS[name][self.seeds_used.get(name, 0)]
        self.seeds_used[name] = self.seeds_used.get(name, 0) + 1
        t = self.tables[name]
        keys = ", ".join(lit(row[0]) for row in batch)
        up = [f"-- Reference data requested in SHOP-{self.ticket}.", self.lookup_insert(t, batch)]
        self.ticket += self.r.randint(3, 40)
        down = [f"DELETE FROM {t.q} WHERE code IN ({keys});"]
        return Op(f"seed_{t.slug}_{self.seeds_used[name]}", f"More {t.name}", up, down)

    def op_bulk_insert(self, t: Table) -> Op | None:
        if t.n0 == 0:
            return None
        rows = self.pick([100, 250, 500, 1000])
        up = [f"-- Data from the {self.pick(['2023 import', 'partner feed', 'load test', 'migration of tenant 7'])}.",
              self.insert_rows(t, rows)]
        if self.chance(0.5):
            up.append(f"ANALYZE {t.q};")
        if t.name in self.matviews and self.matviews[t.name] not in self.refreshed and self.chance(0.7):
            self.refreshed.append(self.matviews[t.name])
            up.append(f"REFRESH MATERIALIZED VIEW {self.matviews[t.name]};")
        return Op(f"backfill_{t.slug}", f"Backfill {t.name}", up, None)

    def op_data_fix(self, t: Table) -> Op | None:
        texts = [c for c in t.cols if c.kind == "text" and not c.legacy and not c.domain and not c.pinned]
        bools = [c for c in t.cols_of("bool") if not c.pinned]
        if texts:
            c = self.pick(texts)
            up = ["-- Normalise what the old import wrote; harmless when run on clean data.",
                  f"UPDATE {t.q}\n   SET {c.q} = replace({c.q}, ';;', ';')\n"
                  f" WHERE {c.q} LIKE '%;;%';",
                  f"UPDATE {t.q}\n   SET {c.q} = NULLIF(btrim({c.q}), '')\n"
                  f" WHERE {c.q} IS NOT NULL AND {c.q} <> btrim({c.q});"]
            if not c.null:
                up[2] = (f"UPDATE {t.q}\n   SET {c.q} = btrim({c.q})\n"
                         f" WHERE {c.q} <> btrim({c.q});")
        elif bools:
            c = self.pick(bools)
            up = ["-- Support ticket: flags were inverted for rows imported on one day.",
                  f"UPDATE {t.q} SET {c.q} = NOT {c.q} WHERE id % 211 = 7;"]
        else:
            return None
        return Op(f"fix_{t.slug}_{slugify(c.name)}", f"Fix {t.name}.{c.name}", up, None)

    def op_drop_legacy(self, t: Table) -> Op | None:
        cands = [c for c in t.cols if c.legacy and not c.pinned]
        if not cands:
            return None
        c = self.pick(cands)
        t.cols.remove(c)
        up = [f"-- {c.name} has been unused since the v2 API; nothing reads it.",
              f"ALTER TABLE {t.q} DROP COLUMN {c.q};"]
        return Op(f"drop_{t.slug}_{c.name}", f"Drop {t.name}.{c.name}", up, None)

    def op_sequence(self, t: Table) -> Op | None:
        if t.col("number") or t.n0 == 0:
            return None
        seq = self.unique_name(obj_name(t.slug, "number", "seq"))
        idx = self.unique_name(obj_name(t.slug, "number", "key"))
        c = Col("number", "seq", default=f"nextval('{seq}')")
        c.sqltype = "bigint"
        t.cols.append(c)
        t.index_sigs.append("number")
        start = self.pick([1000, 10000, 100000])
        c.comment = lit(f"Customer-facing number, starting at {start}; gaps are normal")
        up = [f"CREATE SEQUENCE {seq} START WITH {start};",
              f"-- Existing rows are numbered in id order by the volatile default.",
              f"ALTER TABLE {t.q} ADD COLUMN number bigint NOT NULL DEFAULT nextval('{seq}');",
              f"ALTER SEQUENCE {seq} OWNED BY {t.q}.number;",
              f"CREATE UNIQUE INDEX {idx} ON {t.q} (number);",
              f"COMMENT ON COLUMN {t.q}.number IS {c.comment};"]
        down = [f"DROP INDEX IF EXISTS {idx};",
                f"ALTER TABLE {t.q} DROP COLUMN number;",
                f"DROP SEQUENCE IF EXISTS {seq};"]
        return Op(f"number_{t.slug}", f"Give {t.name} a customer-facing number", up, down)

    def op_generated(self, t: Table) -> Op | None:
        names = [c for c in t.cols_of("name") if not c.domain]
        if not names or t.col("search_name"):
            return None
        src = self.pick(names)
        src.pinned = True
        c = Col("search_name", "gen")
        c.sqltype = "text"
        t.cols.append(c)
        idx = self.unique_name(obj_name(t.slug, "search_name", "idx"))
        up = [f"ALTER TABLE {t.q}\n    ADD COLUMN search_name text\n"
              f"    GENERATED ALWAYS AS (lower(regexp_replace({src.q}, '\\s+', ' ', 'g'))) STORED;",
              f"CREATE INDEX {idx} ON {t.q} (search_name text_pattern_ops);"]
        down = [f"DROP INDEX IF EXISTS {idx};", f"ALTER TABLE {t.q} DROP COLUMN search_name;"]
        return Op(f"add_search_name_to_{t.slug}", f"Add a generated search_name to {t.name}", up, down)

    def op_do_check(self, t: Table) -> Op | None:
        cols = [c for c in t.cols if not c.null and c.kind not in ("identity", "gen") and not c.legacy]
        if not cols:
            return None
        c = self.pick(cols)
        up = ["DO $check$\n"
              "DECLARE\n"
              "    v_bad bigint;\n"
              "BEGIN\n"
              f"    SELECT count(*) INTO v_bad FROM {t.q} WHERE {c.q} IS NULL;\n"
              "    IF v_bad > 0 THEN\n"
              f"        RAISE EXCEPTION '% rows in {t.name} have no {c.name}; run the backfill first', v_bad;\n"
              "    END IF;\n"
              "END\n"
              "$check$;"]
        return Op(f"check_{t.slug}_data", f"Check {t.name} data", up, [])

    # -- assembling migrations -----------------------------------------------

    def primary(self) -> list[Op]:
        """Pick the main change of migration self.i."""
        creates_due = None
        if self.next_spec < len(self.create_at) and (
                self.i >= self.create_at[self.next_spec] or not self.entity_tables()):
            creates_due = self.next_spec
            self.next_spec += 1
        ops: list[Op] = []
        due = [m for m in self.milestones
               if m[0] <= self.i and m[1] not in self.flags and m[1] not in self.skipped]
        self.focus = None
        self.routine = False
        if creates_due is not None:
            ops.append(self.op_create_table(TABLE_SPECS[creates_due]))
            self.focus = self.tables[TABLE_SPECS[creates_due][0]]
            return ops
        for _, flag, fn in due:
            op = fn()
            if op:
                assert op.exact or not self.tail, op.desc
                return [op]
            self.skipped.append(flag)
        self.routine = True
        return [self.random_op()]

    def random_op(self) -> Op:
        """An everyday change, picked by weight among those that apply now."""
        weights = [
            ("add_columns", 14), ("add_index", 10), ("add_check", 5), ("enum_column", 5),
            ("enum_add_value", 5), ("enum_use", 4), ("enum_rename", 2), ("set_default", 4),
            ("set_not_null", 5), ("widen", 3), ("rename_column", 3), ("comments", 4),
            ("trigger_updated_at", 2), ("audit_table", 3), ("plpgsql", 6), ("atomic", 4),
            ("view", 4), ("replace_view", 2), ("matview", 2), ("lookup_seed", 3),
            ("bulk_insert", 5), ("data_fix", 4), ("drop_legacy", 2), ("sequence", 2),
            ("fk_column", 4), ("conditional_index", 2), ("generated", 3),
        ]
        not_exact = {"enum_add_value", "set_not_null", "bulk_insert", "data_fix", "drop_legacy"}
        for _ in range(200):
            kinds = [(k, w) for k, w in weights if not (self.tail and k in not_exact)]
            total = sum(w for _, w in kinds)
            x = self.r.uniform(0, total)
            for kind, w in kinds:
                x -= w
                if x <= 0:
                    break
            tables = self.entity_tables()
            if not tables and kind not in ("enum_add_value", "enum_use", "enum_rename", "lookup_seed"):
                op = self.op_lookup_seed()
            else:
                t = self.pick(tables) if tables else None
                self.focus = t
                op = {
                    "add_columns": lambda: self.op_add_columns(t),
                    "add_index": lambda: self.op_add_index(t),
                    "add_check": lambda: self.op_add_check(t),
                    "enum_column": self.op_enum_column,
                    "enum_add_value": self.op_enum_add_value,
                    "enum_use": self.op_enum_use,
                    "enum_rename": self.op_enum_rename,
                    "set_default": lambda: self.op_set_default(t),
                    "set_not_null": lambda: self.op_set_not_null(t),
                    "widen": lambda: self.op_widen(t),
                    "rename_column": lambda: self.op_rename_column(t),
                    "comments": lambda: self.op_comments(t),
                    "trigger_updated_at": self.op_trigger_updated_at,
                    "audit_table": lambda: self.op_audit_table(t),
                    "plpgsql": lambda: self.op_plpgsql(t),
                    "atomic": lambda: self.op_atomic(t),
                    "view": lambda: self.op_view(t),
                    "replace_view": self.op_replace_view,
                    "matview": self.op_matview,
                    "lookup_seed": self.op_lookup_seed,
                    "bulk_insert": lambda: self.op_bulk_insert(t),
                    "data_fix": lambda: self.op_data_fix(t),
                    "drop_legacy": lambda: self.op_drop_legacy(t),
                    "sequence": lambda: self.op_sequence(t),
                    "fk_column": lambda: self.op_add_fk_column(t),
                    "conditional_index": lambda: self.op_add_index(t, conditional=True),
                    "generated": lambda: self.op_generated(t),
                }[kind]()
            if op is not None:
                assert op.exact or not self.tail, op.desc
                return op
        raise RuntimeError(f"no applicable change for migration {self.i}")

    def secondary(self, count: int) -> list[Op]:
        """Small companions bundled into the same migration."""
        out: list[Op] = []
        tables = self.entity_tables()
        if not tables:
            return out
        for _ in range(count):
            if self.focus is not None and not self.focus.system and self.chance(0.7):
                t = self.focus
            else:
                t = self.pick(tables)
            kind = self.pick(["index"] * 5 + ["comments"] * 4 + ["check"] * 2
                             + ["audit", "trigger", "do_check", "refresh"])
            op = {
                "index": lambda: self.op_add_index(t),
                "comments": lambda: self.op_comments(t),
                "check": lambda: self.op_add_check(t),
                "audit": lambda: self.op_audit_table(t),
                "do_check": lambda: self.op_do_check(t),
                "refresh": self.op_refresh,
                "trigger": self.op_trigger_updated_at,
            }[kind]()
            if op is not None:
                out.append(op)
        return out

    def plan(self) -> list[Migration]:
        n = self.count
        # Table creations spread over the first 90% of the history.
        span = max(1, int(n * 0.9))
        fit = min(len(TABLE_SPECS), max(1, span // 3))
        self.create_at = [(k * span) // fit for k in range(fit)]
        self.next_spec = 0
        self.milestones = [
            (max(2, n * 3 // 100), "set_updated_at", self.op_set_updated_at),
            (n * 20 // 100, "cents", self.op_cents_function),
            (n * 25 // 100, "audit", self.op_audit),
            (n * 35 // 100, "email_domain", self.op_email_domain),
            (n * 45 // 100, "reporting", self.op_reporting),
            (n * 50 // 100, "events", self.op_events),
            (n * 60 // 100, "order_totals", self.op_order_totals),
            (n * 70 // 100, "event_partitions", self.op_event_partitions),
            (n * 75 // 100, "purge_audit", self.op_purge_audit),
        ]
        when = START
        out = []
        for i in range(n):
            self.i = i
            self.tail = i >= n - TAIL
            self.refreshed = []
            ops = self.primary()
            if self.routine and self.entity_tables() and self.chance(0.14):
                # A release that bundles several changes.
                focus = self.focus
                for _ in range(self.pick([1, 2, 2, 3])):
                    ops.append(self.random_op())
                self.focus = focus
                ops += self.secondary(self.r.randint(4, 12))
            else:
                ops += self.secondary(self.pick([0, 1, 2, 2, 3, 3, 4, 4, 5, 6]))
            version = when.strftime("%Y%m%d%H%M%S")
            m = Migration(i, version, ops)
            if self.tail:
                assert m.exact, m.desc
                m.with_down = True
            else:
                m.with_down = m.reversible and self.chance(DOWN_PROBABILITY)
            out.append(m)
            when += dt.timedelta(minutes=self.pick([7, 23, 45, 90, 180, 600, 1440, 2880, 4320, 7200]) + self.r.randint(0, 59))
        return out


# ---------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------

def is_simple(stmt: str) -> bool:
    return stmt.endswith(";") and not stmt.startswith(("--", "/*")) and "$" not in stmt \
        and "BEGIN ATOMIC" not in stmt


def render_up(m: Migration, r: random.Random, ticket: int) -> list[str]:
    parts: list[str] = []
    style = r.choice(["line", "line", "line", "two", "block", "none"])
    note = m.ops[0].note
    if style == "line":
        parts.append(f"-- {m.title}.")
    elif style == "two":
        parts.append(f"-- {m.title}\n--\n-- {note or 'See SHOP-' + str(ticket) + ' for the discussion.'}")
    elif style == "block":
        parts.append(f"/*\n * {m.title}\n * /* ticket: SHOP-{ticket} */\n"
                     f" * {note or 'Reviewed by the on-call DBA.'}\n */")
    for op in m.ops:
        parts += op.up
    return parts


def render_down(m: Migration, r: random.Random) -> list[str]:
    parts: list[str] = []
    if r.random() < 0.7:
        parts.append(f"-- Revert: {m.title.lower()}.")
    for op in reversed(m.ops):
        parts += op.down
    if not any(p for p in parts if not p.startswith(("--", "/*"))):
        parts.append("-- Nothing to undo: the up migration changed data only.")
    return parts


def finish(parts: list[str], *, drop_last_semicolon: bool, trailing_comment: str | None,
           crlf: bool, bom: bool) -> bytes:
    parts = list(parts)
    if drop_last_semicolon:
        for j in range(len(parts) - 1, -1, -1):
            if not parts[j].startswith(("--", "/*")):
                assert is_simple(parts[j])
                parts[j] = parts[j][:-1]
                break
    text = "\n\n".join(parts) + "\n"
    if trailing_comment:
        text += trailing_comment + "\n"
    if crlf:
        text = text.replace("\n", "\r\n")
    data = text.encode("utf-8")
    if bom:
        data = b"\xef\xbb\xbf" + data
    return data


def last_statement(parts: list[str]) -> str | None:
    for p in reversed(parts):
        if not p.startswith(("--", "/*")):
            return p
    return None


TRAILING = [
    "-- end of migration",
    "-- TODO: drop the old column once every client is on v2",
    "-- vim: set ft=sql:",
    "-- Reviewed; safe to run during business hours.",
    "-- (no down: see the runbook)",
]


def write(count: int, out: pathlib.Path) -> dict[str, int]:
    gen = Generator(count)
    migrations = gen.plan()
    r = random.Random(SEED + 1)
    out.mkdir(parents=True, exist_ok=True)
    for old in sorted(out.iterdir()):
        if old.is_file() and MIGRATION_FILE.match(old.name):
            old.unlink()
    bom_at = sorted({min(1, count - 1), max(0, count - 5)})
    stats = {"migrations": 0, "down": 0, "crlf": 0, "bom": 0, "no_final_semicolon": 0,
             "trailing_comment": 0, "bytes": 0, "statements": 0}
    combo_done = False
    for m in migrations:
        up = render_up(m, r, 1000 + m.index * 7)
        last = last_statement(up)
        simple = last is not None and is_simple(last)
        force = simple and not combo_done and m.index >= count - 12
        combo_done = combo_done or force
        nosemi = simple and (r.random() < 0.12 or force)
        choices = TRAILING if not m.with_down else TRAILING[:-1]
        trailing = r.choice(choices) if (r.random() < 0.12 or force) else None
        crlf = r.random() < 0.06 or m.index == bom_at[-1]
        bom = m.index in bom_at
        data = finish(up, drop_last_semicolon=nosemi, trailing_comment=trailing, crlf=crlf, bom=bom)
        base = f"{m.version}_{m.desc}"
        assert MIGRATION_FILE.match(base + ".up.sql"), base
        (out / f"{base}.up.sql").write_bytes(data)
        stats["migrations"] += 1
        stats["crlf"] += crlf
        stats["bom"] += bom
        stats["no_final_semicolon"] += nosemi
        stats["trailing_comment"] += trailing is not None
        stats["bytes"] += len(data)
        stats["statements"] += sum(1 for p in up if not p.startswith(("--", "/*")))
        if m.with_down:
            down = render_down(m, r)
            last = last_statement(down)
            nosemi = last is not None and is_simple(last) and r.random() < 0.06
            trailing = r.choice(TRAILING[:4]) if r.random() < 0.08 else None
            crlf = r.random() < 0.05
            data = finish(down, drop_last_semicolon=nosemi, trailing_comment=trailing, crlf=crlf, bom=False)
            (out / f"{base}.down.sql").write_bytes(data)
            stats["down"] += 1
            stats["crlf"] += crlf
            stats["no_final_semicolon"] += nosemi
            stats["trailing_comment"] += trailing is not None
            stats["bytes"] += len(data)
    return stats


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=DEFAULT_COUNT, help="number of migrations (default 240)")
    ap.add_argument("--out", type=pathlib.Path, default=DEFAULT_OUT,
                    help="folder to write; existing migration files in it are replaced")
    args = ap.parse_args(argv)
    if args.count < 1:
        ap.error("--count must be at least 1")
    stats = write(args.count, args.out)
    print(f"wrote {stats['migrations']} migrations ({stats['down']} with a down file, "
          f"{stats['statements']} up statements, {stats['bytes']} bytes in all) to {args.out}", file=sys.stderr)
    print("  crlf files: {crlf}, bom files: {bom}, no final semicolon: {no_final_semicolon}, "
          "trailing comment: {trailing_comment}".format(**stats), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
