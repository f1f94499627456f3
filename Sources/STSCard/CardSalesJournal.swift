import Foundation
import STSTokenFormat

/// The vending station's record of card sales, so paid credit is never lost and never delivered
/// twice: a sale is appended as `pending` (and synced) before the card is written, and as
/// `delivered` after the write was read back and verified. A pending sale is completed the next
/// time its card is presented. JSON lines, mode 0600 (tokens are bearer credit).
public struct CardSalesJournal {
    /// One journal line: a card sale in one state, with everything needed to write it to the card again.
    public struct Entry: Codable, Equatable, Sendable {
        /// The card serial, 16 upper-case hex digits.
        public var serial: String
        /// The meter PAN, 18 digits with leading zeros.
        public var meter: String
        /// The purchase sequence on the card.
        public var sequence: UInt32
        /// The tokens, 20 digits each, in slot order.
        public var tokens: [String]
        /// The credit token's TID; the next card sale to this meter takes a later one.
        public var tid: UInt32
        /// Transfer units (0.1 kWh) as encoded in the token.
        public var units: UInt32
        /// The credit kind, the STS class 0 subclass (0 electricity).
        public var kind: UInt8
        /// The selling station's id.
        public var station: UInt32
        /// When it was sold, minutes since 1970 (UTC).
        public var minute: UInt32
        /// `pending` (appended before the card write) or `delivered` (after the read-back matched).
        public var state: String

        /// The entry for a purchase record written (or about to be written) to card `serial`.
        public init(serial: String, record: PurchaseRecord, meter: MeterPAN, tid: UInt32, state: String) {
            self.serial = serial
            self.meter = meter.description
            sequence = record.sequence
            tokens = record.tokens.map(\.digits)
            self.tid = tid
            units = record.units
            kind = record.kind.rawValue
            station = record.station
            minute = record.issuedMinute
            self.state = state
        }

        /// The purchase record this sale writes.
        public func record() throws -> PurchaseRecord {
            guard let kind = CreditKind(rawValue: kind) else { throw CardError.badRecord("journal entry with unknown credit kind") }
            return PurchaseRecord(sequence: sequence, station: station, issuedMinute: minute, units: units, kind: kind,
                                  tokens: try tokens.map { try TokenNumber($0) }, tid: tid)
        }
    }

    /// The journal file (JSON lines, mode 0600).
    public let path: String

    /// The journal at `path`; a missing file reads as empty and is created on the first append.
    public init(path: String) { self.path = path }

    /// Every entry, oldest first.
    public func entries() throws -> [Entry] {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        let text = String(decoding: data, as: UTF8.self)
        // Whole lines are appended with one write; a line that does not decode is a torn append
        // (crash mid-write) that never counted, and is skipped.
        return text.split(separator: "\n").compactMap { try? JSONDecoder().decode(Entry.self, from: Data($0.utf8)) }
    }

    /// The pending sale of a card (latest state per sequence), if any.
    public func pending(serial: String) throws -> Entry? {
        var latest: [UInt32: Entry] = [:]
        for e in try entries() where e.serial == serial { latest[e.sequence] = e }
        return latest.values.filter { $0.state == "pending" }.max { $0.sequence < $1.sequence }
    }

    /// The TIDs already issued to a meter through card sales.
    public func tids(meter: MeterPAN) throws -> [TokenIdentifier] {
        try entries().filter { $0.meter == meter.description }.map { TokenIdentifier(field: $0.tid) }
    }

    /// Appends an entry and syncs it to disk before returning.
    public func append(_ entry: Entry) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let line = try encoder.encode(entry) + Data("\n".utf8)
        let fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw CardError.badRecord("cannot open the card sales journal \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & 0o077 == 0 else {
            throw CardError.badRecord("the card sales journal \(path) holds live tokens and can be read by group or others; run: chmod 600 \(path)")
        }
        let size = lseek(fd, 0, SEEK_END)
        // A journal ending in a torn line (crash mid-append) is completed with a newline first.
        if size > 0 {
            var last: UInt8 = 0
            if pread(fd, &last, 1, size - 1) == 1, last != 10 { _ = write(fd, "\n", 1) }
        }
        let written = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == line.count, fsync(fd) == 0 else {
            ftruncate(fd, size)
            throw CardError.badRecord("cannot write the card sales journal \(path); the sale was not recorded")
        }
    }
}
