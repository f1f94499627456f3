import Foundation
import STSTokenFormat

/// A meter fault a customer reported at a point of sale, for supervisors to act on.
public struct POSFault: Sendable, Equatable {
    /// The fault's reference number (what the point of sale prints for the customer).
    public let reference: Int64
    /// The client and message that reported it.
    public let client: String, messageID: String
    /// The meter, the fault's type as the interface names it, and the customer's words.
    public let meter: String, faultType: String, description: String
    /// How to reach the customer, and their name when given.
    public let contact: String, customer: String
    /// When it was reported, and resolved (Unix seconds; nil while open), and by whom.
    public let reportedAt: Int64, resolvedAt: Int64?, resolvedBy: String?
}

extension Station {
    /// Records a fault report exactly once per message id (a repeat gets the same reference).
    /// The meter must be the station's. Logged.
    public func reportPOSFault(_ m: POSMessage, meter pan: MeterPAN, faultType: String, description: String,
                               contact: String, customer: String) throws -> Int64 {
        try requirePOSStore()
        return try write { tx in
            try tx.requireEnabled(m.client)
            if let r = try Row.fetchOne(tx.db, sql: "SELECT id, client FROM pos_faults WHERE message_id = ?", arguments: [m.id]) {
                guard (r["client"] as String) == m.client.name else { throw StationError.refused(.posDuplicateMessage(id: m.id)) }
                return r["id"]
            }
            if try tx.posMessage(m.id) != nil { throw StationError.refused(.posDuplicateMessage(id: m.id)) }
            _ = try tx.meter(pan.description)
            try tx.db.execute(sql: """
                INSERT INTO pos_faults (message_id, client, meter_pan, fault_type, description, contact, customer, created_at, station)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [m.id, m.client.name, pan.description, faultType, description, contact, customer, tx.now, tx.station.stationID])
            guard let reference = try Int64.fetchOne(tx.db, sql: "SELECT id FROM pos_faults WHERE message_id = ?", arguments: [m.id]) else {
                throw StationError.store("the fault report was not recorded")
            }
            // Its id is taken for every kind of message, as every other message's is.
            try tx.insertPOSMessage(m, kind: "fault", originalID: nil, state: "recorded", sale: nil, meter: pan.description, response: [])
            try tx.log(.posFault, actor: m.client.actor.name) { w in
                w.field("reference", Int(reference))
                w.field("pan", pan.description)
                w.field("fault", faultType)
                w.field("description", description)
            }
            return reference
        }
    }

    /// Fault reports, newest first: open ones only unless `all` (supervisors).
    public func posFaults(all: Bool = false, by actor: Actor) throws -> [POSFault] {
        try actor.require([.supervisor, .auditor], to: "read fault reports")
        return try read { tx in
            try Row.fetchAll(tx.db, sql: """
                SELECT id, client, message_id, meter_pan, fault_type, description, contact, customer, created_at, resolved_at, resolved_by
                FROM pos_faults \(all ? "" : "WHERE resolved_at IS NULL") ORDER BY id DESC LIMIT 1000
                """).map { r in
                POSFault(reference: r[0], client: r[1], messageID: r[2], meter: r[3], faultType: r[4], description: r[5],
                         contact: r[6], customer: r[7], reportedAt: r[8], resolvedAt: r[9], resolvedBy: r[10])
            }
        }
    }

    /// Marks a fault report resolved (supervisors). Logged.
    public func resolvePOSFault(_ reference: Int64, note: String, by actor: Actor) throws {
        try actor.require([.supervisor], to: "resolve fault reports")
        guard note.utf8.count <= 500, !note.unicodeScalars.contains(where: { $0.value < 32 || $0.value == 127 }) else {
            throw StationError.invalid(.reason, "a note is at most 500 bytes, on one line")
        }
        try write { tx in
            try tx.db.execute(sql: "UPDATE pos_faults SET resolved_at = ?, resolved_by = ? WHERE id = ? AND resolved_at IS NULL",
                              arguments: [tx.now, actor.name, reference])
            guard tx.db.changesCount == 1 else { throw StationError.notFound("open fault report \(reference)") }
            try tx.log(.posFault, actor: actor.name) { w in
                w.field("reference", Int(reference))
                w.field("resolved", true)
                if !note.isEmpty { w.field("note", note) }
            }
        }
    }
}
