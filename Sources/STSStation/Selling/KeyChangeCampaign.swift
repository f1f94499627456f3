import Foundation

/// Where one meter stands in a key-change campaign.
public enum CampaignState: String, Sendable {
    /// Waiting for its key-change set.
    case pending
    /// Its set was issued (and the station now sells under the new key).
    case issued
    /// The meter was seen to accept the new key.
    case confirmed
}

/// Progress of a campaign.
public struct CampaignProgress: Sendable, Equatable {
    /// Meters still waiting for their key-change set.
    public var pending = 0
    /// Meters whose set was issued, not yet confirmed.
    public var issued = 0
    /// Meters seen to accept the new key.
    public var confirmed = 0
    /// Every meter in the campaign.
    public var total: Int { pending + issued + confirmed }
}

extension Station {
    /// Starts a campaign (supervisor with second factor) that moves every meter on vending key
    /// `from` to key `to`, e.g. a TID rollover to base date 2014 or a KRN change.
    @discardableResult
    public func startCampaign(name: String, from: String, to: String, by actor: Actor) throws -> CampaignProgress {
        try actor.require([.supervisor], to: "start key-change campaigns", secondFactor: true)
        return try write { tx in
            _ = try vendingKey(from, tx)
            _ = try vendingKey(to, tx)
            guard try Bool.fetchOne(tx.db, sql: "SELECT 1 FROM campaigns WHERE name = ?", arguments: [name]) == nil else {
                throw StationError.alreadyExists("campaign \(name)")
            }
            try tx.db.execute(sql: "INSERT INTO campaigns (name, from_key, to_key, created_at, created_by) VALUES (?, ?, ?, ?, ?)",
                              arguments: [name, from, to, tx.now, actor.name])
            try tx.db.execute(sql: "INSERT INTO campaign_meters (campaign, meter_pan, state) SELECT ?, pan, 'pending' FROM meters WHERE key_name = ? ORDER BY pan",
                              arguments: [name, from])
            let count = tx.db.changesCount
            try tx.log(.campaign, actor: actor.name) { w in
                w.field("action", "start")
                w.field("name", name)
                w.field("from_key", from)
                w.field("to_key", to)
                w.field("meters", count)
            }
            tx.forceSeal = true
            return CampaignProgress(pending: count)
        }
    }

    /// Issues the key-change sets of the campaign's pending meters, one meter per transaction,
    /// so an interrupted run resumes where it stopped (supervisors). `issued` is called after
    /// each meter's set is committed. With `setsFile`, each set is also appended to that file as
    /// a JSON line (created 0600 when missing); a file that cannot be opened stops the run before
    /// anything is issued.
    public func runCampaign(name: String, by actor: Actor, limit: Int = .max, setsFile: String? = nil,
                            issued: (String, SaleReceipt, CampaignProgress) throws -> Void = { _, _, _ in }) throws -> CampaignProgress {
        try actor.require([.supervisor], to: "run key-change campaigns")
        let toKey = try read { tx in
            guard let k = try String.fetchOne(tx.db, sql: "SELECT to_key FROM campaigns WHERE name = ?", arguments: [name]) else {
                throw StationError.notFound("campaign \(name)")
            }
            return k
        }
        // Opened after the checks, before the first set is issued.
        let sets = try setsFile.map { path throws(StationError) in try KeyChangeSetsFile(path: path) }
        var done = 0
        while done < limit {
            let step: (String, SaleReceipt)? = try write { tx in
                guard let pan = try String.fetchOne(tx.db, sql: "SELECT meter_pan FROM campaign_meters WHERE campaign = ? AND state = 'pending' ORDER BY meter_pan LIMIT 1",
                                                    arguments: [name]) else { return nil }
                let receipt = try changeKey(meter: pan, to: toKey, actor: actor, campaign: name, tx)
                try tx.db.execute(sql: "UPDATE campaign_meters SET state = 'issued', sale_id = ? WHERE campaign = ? AND meter_pan = ?",
                                  arguments: [receipt.saleID, name, pan])
                try tx.log(.campaign, actor: actor.name) { w in
                    w.field("action", "issued")
                    w.field("name", name)
                    w.field("pan", pan)
                    w.field("sale", Int(receipt.saleID))
                }
                return (pan, receipt)
            }
            guard let step else { break }
            done += 1
            try sets?.append(pan: step.0, receipt: step.1)
            try issued(step.0, step.1, try campaignProgress(name: name))
        }
        return try campaignProgress(name: name)
    }

    /// Records that a meter accepted its new key (operators and supervisors).
    public func confirmCampaign(name: String, meter pan: String, by actor: Actor) throws {
        try actor.require(sellers, to: "confirm key changes")
        try write { tx in
            try tx.db.execute(sql: "UPDATE campaign_meters SET state = 'confirmed' WHERE campaign = ? AND meter_pan = ? AND state = 'issued'",
                              arguments: [name, pan])
            guard tx.db.changesCount == 1 else { throw StationError.refused(.noIssuedKeyChange(meter: "\(pan)", campaign: name)) }
            try tx.log(.campaign, actor: actor.name) { w in
                w.field("action", "confirmed")
                w.field("name", name)
                w.field("pan", pan)
            }
        }
    }

    /// How far the campaign is: its meters by state.
    public func campaignProgress(name: String) throws -> CampaignProgress {
        try read { tx in
            guard try Bool.fetchOne(tx.db, sql: "SELECT 1 FROM campaigns WHERE name = ?", arguments: [name]) != nil else {
                throw StationError.notFound("campaign \(name)")
            }
            var p = CampaignProgress()
            for row in try Row.fetchAll(tx.db, sql: "SELECT state, COUNT(*) FROM campaign_meters WHERE campaign = ? GROUP BY state", arguments: [name]) {
                switch CampaignState(rawValue: row[0]) {
                case .pending: p.pending = row[1]
                case .issued: p.issued = row[1]
                case .confirmed: p.confirmed = row[1]
                case nil: break
                }
            }
            return p
        }
    }
}
