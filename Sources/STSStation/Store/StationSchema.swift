import GRDB
import Foundation

/// The station database's schema, built by numbered migrations so an older station file is
/// brought forward in place. Money is integer cents, energy integer tenths of a kWh, times
/// Unix seconds (UTC).
enum StationSchema {
    /// The migrations in order, as SQLite statements; ``migrations(for:)`` gives them in a store's dialect.
    static let sqliteMigrations: [(String, String)] = [
        ("v1", """
            CREATE TABLE station (
                id INTEGER PRIMARY KEY CHECK (id = 1),
                station_id TEXT NOT NULL, name TEXT NOT NULL, created_at INTEGER NOT NULL,
                kdf_salt BLOB NOT NULL, kek_check BLOB NOT NULL,
                signing_key BLOB NOT NULL, public_key BLOB NOT NULL,
                checkpoint_seq INTEGER NOT NULL DEFAULT 0, checkpoint_time INTEGER NOT NULL DEFAULT 0);
            CREATE TABLE users (
                id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, role TEXT NOT NULL,
                password TEXT NOT NULL, totp_secret BLOB NOT NULL, totp_last_step INTEGER NOT NULL DEFAULT 0,
                active INTEGER NOT NULL DEFAULT 1, created_at INTEGER NOT NULL);
            CREATE TABLE vending_keys (
                name TEXT PRIMARY KEY, sealed BLOB NOT NULL,
                dkga INTEGER NOT NULL, ea INTEGER NOT NULL, base_date INTEGER NOT NULL, sgc TEXT NOT NULL,
                krn INTEGER NOT NULL, kt INTEGER NOT NULL, ti INTEGER NOT NULL, ken INTEGER NOT NULL,
                created_at INTEGER NOT NULL);
            CREATE TABLE tariffs (
                name TEXT NOT NULL, version INTEGER NOT NULL, definition TEXT NOT NULL, created_at INTEGER NOT NULL,
                PRIMARY KEY (name, version));
            CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, created_at INTEGER NOT NULL);
            CREATE TABLE meters (
                pan TEXT PRIMARY KEY, key_name TEXT NOT NULL REFERENCES vending_keys(name),
                sgc TEXT NOT NULL, ti INTEGER NOT NULL, krn INTEGER NOT NULL, kt INTEGER NOT NULL, ken INTEGER NOT NULL,
                base_date INTEGER NOT NULL, dkga INTEGER NOT NULL, ea INTEGER NOT NULL,
                kind TEXT NOT NULL, tariff TEXT NOT NULL,
                last_tid INTEGER NOT NULL DEFAULT 0, last_tid_base_date INTEGER NOT NULL DEFAULT 0,
                created_at INTEGER NOT NULL);
            CREATE TABLE accounts (
                id INTEGER PRIMARY KEY, meter_pan TEXT NOT NULL REFERENCES meters(pan),
                customer_id INTEGER NOT NULL REFERENCES customers(id),
                opened_at INTEGER NOT NULL, closed_at INTEGER,
                arrears INTEGER NOT NULL DEFAULT 0, debt INTEGER NOT NULL DEFAULT 0,
                debt_recovery_bp INTEGER NOT NULL DEFAULT 0, fixed_monthly INTEGER NOT NULL DEFAULT 0,
                fixed_due INTEGER NOT NULL DEFAULT 0, month TEXT NOT NULL DEFAULT '',
                month_purchased INTEGER NOT NULL DEFAULT 0, month_free INTEGER NOT NULL DEFAULT 0,
                carried INTEGER NOT NULL DEFAULT 0);
            CREATE UNIQUE INDEX one_open_account ON accounts(meter_pan) WHERE closed_at IS NULL;
            CREATE TABLE sales (
                id INTEGER PRIMARY KEY, request_id TEXT NOT NULL UNIQUE, request TEXT NOT NULL,
                kind TEXT NOT NULL, meter_pan TEXT NOT NULL, account_id INTEGER,
                operator TEXT NOT NULL, channel TEXT NOT NULL, created_at INTEGER NOT NULL,
                money INTEGER NOT NULL DEFAULT 0, fee INTEGER NOT NULL DEFAULT 0, arrears INTEGER NOT NULL DEFAULT 0,
                debt INTEGER NOT NULL DEFAULT 0, fixed INTEGER NOT NULL DEFAULT 0, vat INTEGER NOT NULL DEFAULT 0,
                energy INTEGER NOT NULL DEFAULT 0, units INTEGER NOT NULL DEFAULT 0, free_units INTEGER NOT NULL DEFAULT 0,
                carried_in INTEGER NOT NULL DEFAULT 0, carried_out INTEGER NOT NULL DEFAULT 0,
                tokens TEXT NOT NULL, tid INTEGER, receipt BLOB NOT NULL,
                reversed_at INTEGER, reversed_by TEXT);
            CREATE INDEX sales_by_time ON sales(created_at);
            CREATE INDEX sales_by_account ON sales(account_id);
            CREATE TABLE sale_blocks (
                sale_id INTEGER NOT NULL REFERENCES sales(id), block INTEGER NOT NULL, price INTEGER NOT NULL,
                tenths INTEGER NOT NULL, cost INTEGER NOT NULL);
            CREATE INDEX sale_blocks_by_sale ON sale_blocks(sale_id);
            CREATE TABLE log (seq INTEGER PRIMARY KEY, line BLOB NOT NULL, hash BLOB NOT NULL);
            CREATE TABLE campaigns (
                name TEXT PRIMARY KEY, from_key TEXT NOT NULL, to_key TEXT NOT NULL, created_at INTEGER NOT NULL,
                created_by TEXT NOT NULL);
            CREATE TABLE campaign_meters (
                campaign TEXT NOT NULL REFERENCES campaigns(name), meter_pan TEXT NOT NULL,
                state TEXT NOT NULL, sale_id INTEGER, PRIMARY KEY (campaign, meter_pan));
            """),
        ("v2", """
            ALTER TABLE station ADD COLUMN test_clock INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE sales ADD COLUMN log_seq INTEGER;
            CREATE TABLE login_throttle (
                name TEXT NOT NULL, source TEXT NOT NULL, failures INTEGER NOT NULL DEFAULT 0,
                locked_until INTEGER NOT NULL DEFAULT 0, last_seconds INTEGER NOT NULL DEFAULT 0,
                PRIMARY KEY (name, source));
            """),
        // Card meters sold from the station: the issuer key, the cards issued, and every
        // purchase written (or to be written) to a card, keyed to its sale.
        ("v3", """
            CREATE TABLE card_issuer_keys (
                name TEXT PRIMARY KEY, sealed BLOB NOT NULL, issuer_id INTEGER NOT NULL, created_at INTEGER NOT NULL);
            CREATE TABLE cards (
                serial TEXT PRIMARY KEY, meter_pan TEXT NOT NULL REFERENCES meters(pan), issuer_key TEXT NOT NULL,
                issued_at INTEGER NOT NULL, issued_by TEXT NOT NULL);
            CREATE TABLE card_purchases (
                id INTEGER PRIMARY KEY, sale_id INTEGER UNIQUE REFERENCES sales(id), meter_pan TEXT NOT NULL,
                serial TEXT NOT NULL, sequence INTEGER NOT NULL, station INTEGER NOT NULL, minute INTEGER NOT NULL,
                units INTEGER NOT NULL, kind INTEGER NOT NULL, tokens TEXT NOT NULL, tid INTEGER NOT NULL,
                state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'voided')),
                source TEXT NOT NULL DEFAULT 'station', updated_at INTEGER NOT NULL, voided_log_seq INTEGER);
            CREATE UNIQUE INDEX card_purchase_live ON card_purchases(serial, sequence) WHERE state != 'voided';
            CREATE INDEX card_purchases_by_meter ON card_purchases(meter_pan, sequence);
            ALTER TABLE meters ADD COLUMN credit TEXT NOT NULL DEFAULT 'energy';
            """),
        // Set, in its own commit, before a purchase is first written to its card: a purchase
        // whose write never started can be withdrawn without the card.
        ("v4", "ALTER TABLE card_purchases ADD COLUMN write_started INTEGER NOT NULL DEFAULT 0"),
        // Where a meter is installed (a flat, a shop): it stays with the meter across tenants,
        // and counter staff find customers by it.
        ("v5", "ALTER TABLE meters ADD COLUMN address TEXT NOT NULL DEFAULT ''"),
        // Connected meters (DLMS/COSEM): where each listens and its suite 0 keys, sealed under
        // the KEK like vending keys; one delivery per sale to such a meter, made in the sale's
        // own transaction so a retry delivers the same tokens and never sells again; readings.
        ("v6", """
            CREATE TABLE meter_links (pan TEXT PRIMARY KEY REFERENCES meters(pan), host TEXT NOT NULL, port INTEGER NOT NULL,
                sealed BLOB NOT NULL, server_title TEXT NOT NULL, supply TEXT NOT NULL DEFAULT 'auto' CHECK (supply IN ('auto', 'held-open')),
                counter INTEGER NOT NULL DEFAULT 0, low_credit_tenths INTEGER NOT NULL DEFAULT 50, created_at INTEGER NOT NULL);
            CREATE TABLE deliveries (sale_id INTEGER PRIMARY KEY REFERENCES sales(id), pan TEXT NOT NULL, tokens TEXT NOT NULL,
                state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'refused', 'dead')),
                attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at INTEGER NOT NULL, result TEXT NOT NULL DEFAULT '',
                last_error TEXT NOT NULL DEFAULT '', sent INTEGER NOT NULL DEFAULT 0, updated_at INTEGER NOT NULL);
            CREATE INDEX deliveries_due ON deliveries(state, next_attempt_at);
            CREATE TABLE readings (pan TEXT NOT NULL, time INTEGER NOT NULL, energy_wh INTEGER NOT NULL, power_w INTEGER NOT NULL,
                credit INTEGER NOT NULL, relay_closed INTEGER NOT NULL, PRIMARY KEY (pan, time)) WITHOUT ROWID;
            CREATE TABLE load_profile (pan TEXT NOT NULL, time INTEGER NOT NULL, energy_wh INTEGER NOT NULL, PRIMARY KEY (pan, time)) WITHOUT ROWID;
            CREATE TABLE meter_events (pan TEXT NOT NULL, time INTEGER NOT NULL, code INTEGER NOT NULL, PRIMARY KEY (pan, time, code)) WITHOUT ROWID;
            -- Alerts, and their notifications per channel (an outbox: retried, dead-lettered).
            -- A resident's contact is personal data: kept only for meters that have alerts sent to them.
            CREATE TABLE meter_contacts (pan TEXT PRIMARY KEY REFERENCES meters(pan), email TEXT NOT NULL DEFAULT '', phone TEXT NOT NULL DEFAULT '');
            CREATE TABLE alerts (id INTEGER PRIMARY KEY, pan TEXT NOT NULL, kind TEXT NOT NULL, time INTEGER NOT NULL, detail TEXT NOT NULL,
                UNIQUE (pan, kind, time));
            CREATE TABLE notifications (alert_id INTEGER NOT NULL REFERENCES alerts(id), channel TEXT NOT NULL,
                state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'dead')), attempts INTEGER NOT NULL DEFAULT 0,
                next_attempt_at INTEGER NOT NULL, last_error TEXT NOT NULL DEFAULT '', PRIMARY KEY (alert_id, channel));
            CREATE INDEX notifications_due ON notifications(state, next_attempt_at);
            """),
        // Many stations on one store: every log entry and every sale names the station whose
        // chain holds it (one hash chain per station); on SQLite the one station's id.
        ("v7", """
            ALTER TABLE log ADD COLUMN station TEXT NOT NULL DEFAULT '';
            UPDATE log SET station = COALESCE((SELECT station_id FROM station), '');
            ALTER TABLE sales ADD COLUMN station TEXT NOT NULL DEFAULT '';
            UPDATE sales SET station = COALESCE((SELECT station_id FROM station), '');
            """),
        // Offline lanes: a station that sells some meters from a local SQLite store while the
        // central one may be unreachable. The central store holds those meters for it (no other
        // station sells them) and sale numbers reserved for it; the local store has the same
        // tables, naming itself 'local'. Its chain is uploaded back exactly once.
        ("v8", """
            CREATE TABLE offline_lanes (station TEXT PRIMARY KEY,
                state TEXT NOT NULL CHECK (state IN ('out', 'returned', 'local', 'returning', 'closed')),
                fork_seq INTEGER NOT NULL, uploaded_seq INTEGER NOT NULL DEFAULT 0, prepared_at INTEGER NOT NULL,
                prepared_by TEXT NOT NULL, uploaded_at INTEGER NOT NULL DEFAULT 0);
            CREATE TABLE offline_meters (pan TEXT PRIMARY KEY REFERENCES meters(pan), station TEXT NOT NULL);
            CREATE TABLE offline_sale_ids (id INTEGER NOT NULL PRIMARY KEY, station TEXT NOT NULL, used INTEGER NOT NULL DEFAULT 0);
            """),
        // Point-of-sale networks: a supervisor blocks a meter from all sales; POS clients (an
        // aggregator each) with a hashed secret, allowed addresses and purchase limits; every
        // message of theirs that has an effect, by its id, with the answer it got (a retry or a
        // repeated advice gets the same answer) and the envelope that settles it; fault reports.
        ("v9", """
            ALTER TABLE meters ADD COLUMN blocked_reason TEXT;
            CREATE TABLE pos_clients (name TEXT PRIMARY KEY, secret_hash BLOB NOT NULL, allowed_sources TEXT NOT NULL,
                currency TEXT NOT NULL, min_cents INTEGER NOT NULL, max_cents INTEGER NOT NULL,
                reversals INTEGER NOT NULL DEFAULT 0, enabled INTEGER NOT NULL DEFAULT 1,
                created_at INTEGER NOT NULL, created_by TEXT NOT NULL);
            CREATE TABLE pos_messages (id TEXT PRIMARY KEY, client TEXT NOT NULL REFERENCES pos_clients(name),
                kind TEXT NOT NULL, original_id TEXT, fingerprint TEXT NOT NULL, state TEXT NOT NULL,
                sale_id INTEGER, meter_pan TEXT, response BLOB NOT NULL,
                institution TEXT NOT NULL, merchant TEXT NOT NULL, terminal TEXT NOT NULL, settlement TEXT NOT NULL,
                created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, station TEXT NOT NULL);
            CREATE INDEX pos_messages_original ON pos_messages(original_id);
            CREATE INDEX pos_messages_sale ON pos_messages(sale_id);
            CREATE INDEX pos_messages_meter ON pos_messages(client, meter_pan, sale_id);
            CREATE TABLE pos_faults (id INTEGER PRIMARY KEY, message_id TEXT NOT NULL UNIQUE, client TEXT NOT NULL,
                meter_pan TEXT NOT NULL, fault_type TEXT NOT NULL, description TEXT NOT NULL, contact TEXT NOT NULL,
                customer TEXT NOT NULL, created_at INTEGER NOT NULL, resolved_at INTEGER, resolved_by TEXT, station TEXT NOT NULL);
            """),
    ]

    /// What PostgreSQL needs beyond the shared migrations: the log's key is (station, seq), and
    /// station names and ids are unique (the station table has one row per station).
    static let postgresExtras: [String: String] = [
        "v7": """
            ALTER TABLE log DROP CONSTRAINT log_pkey;
            ALTER TABLE log ADD PRIMARY KEY (station, seq);
            CREATE UNIQUE INDEX station_names ON station(name);
            CREATE UNIQUE INDEX station_ids ON station(station_id);
            """,
    ]

    /// The migrations in a store's dialect. PostgreSQL's come from the same text: 64-bit
    /// integers, BYTEA for blobs, generated ids for SQLite's row ids, and the station table
    /// without SQLite's one-row check.
    static func migrations(for dialect: SQLDialect) -> [(String, String)] {
        switch dialect {
        case .sqlite: return sqliteMigrations
        case .postgres:
            return sqliteMigrations.map { name, sql in
                var t = sql.replacingOccurrences(of: "INTEGER PRIMARY KEY CHECK (id = 1)", with: "BIGSERIAL PRIMARY KEY")
                t = t.replacingOccurrences(of: "INTEGER PRIMARY KEY", with: "BIGSERIAL PRIMARY KEY")
                t = t.replacingOccurrences(of: "INTEGER", with: "BIGINT").replacingOccurrences(of: "BLOB", with: "BYTEA")
                t = t.replacingOccurrences(of: " WITHOUT ROWID", with: "")
                if let extra = postgresExtras[name] { t += "\n" + extra }
                return (name, t)
            }
        }
    }

    /// A migration's text as single statements (comment lines dropped; no statement holds a `;`).
    static func statements(_ sql: String) -> [String] {
        let text = sql.split(separator: "\n").filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("--") }.joined(separator: "\n")
        return text.split(separator: ";").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
    }

    /// SQLite's migrator (GRDB records what ran in `grdb_migrations`).
    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        for (name, sql) in sqliteMigrations {
            m.registerMigration(name) { db in try db.execute(sql: sql) }
        }
        return m
    }
}
