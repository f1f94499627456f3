import Crypto
import Foundation
import STSCard
import STSTokenFormat

/// The virtual card's memory on disk: JSON, then `sha256:<hex>`; written atomically (temporary
/// file, fsync, rename, folder fsync) with mode 0600, since it holds the card's write keys.
public enum CardImageFile {
    /// Why a card image could not be loaded or saved.
    public enum Failure: CodedError {
        /// `corrupt`: the file fails its checksum or is not a valid image; `io`: it cannot be read or
        /// written, or group and others can read it.
        case corrupt(String), io(String)
        /// `corrupt-card-image` or `io`.
        public var code: String { self.isCorrupt ? "corrupt-card-image" : "io" }
        var isCorrupt: Bool { if case .corrupt = self { return true } else { return false } }
        /// The message for people, naming the file.
        public var description: String {
            switch self { case let .corrupt(w), let .io(w): return w }
        }
    }

    /// Loads the image, or creates a blank card with a random serial when the file is missing.
    public static func loadOrCreate(_ path: String, serial: [UInt8]? = nil) throws -> CardApplication.Image {
        if FileManager.default.fileExists(atPath: path) { return try load(path) }
        var rng = SystemRandomNumberGenerator()
        let image = CardApplication.Image(serial: serial ?? (0..<8).map { _ in UInt8.random(in: 0...255, using: &rng) })
        try save(image, to: path)
        return image
    }

    /// Loads and checks an existing image; refuses a file that group or others can read (it holds
    /// the card's write keys).
    public static func load(_ path: String) throws -> CardApplication.Image {
        // The image holds the card's write keys in clear: like the meter's state, owner-only.
        var st = stat()
        if stat(path, &st) == 0, st.st_mode & 0o077 != 0 {
            throw Failure.io("card image \(path) holds the card's keys and can be read by group or others; run: chmod 600 \(path)")
        }
        guard let data = FileManager.default.contents(atPath: path) else { throw Failure.io("cannot read the card image \(path)") }
        return try decode([UInt8](data), name: path)
    }

    /// Checks and reads a card image's bytes (`name` is used in messages).
    public static func decode(_ bytes: [UInt8], name: String) throws -> CardApplication.Image {
        let path = name
        guard bytes.count <= 1 << 20 else { throw Failure.corrupt("card image \(path) is too large") }
        guard bytes.last == 10, let split = bytes.dropLast().lastIndex(of: 10) else {
            throw Failure.corrupt("card image \(path) is truncated")
        }
        let body = Array(bytes[..<split])
        let digest = Hex.string(SHA256.hash(data: body))
        guard String(decoding: bytes[(split + 1)..<(bytes.count - 1)], as: UTF8.self) == "sha256:" + digest else {
            throw Failure.corrupt("card image \(path) fails its integrity check")
        }
        guard let image = try? JSONDecoder().decode(CardApplication.Image.self, from: Data(body)),
              image.serial.count == 8, image.files.count == CardFile.allCases.count,
              zip(image.files, CardFile.allCases).allSatisfy({ $0.count == $1.size }),
              image.writeKeys.isEmpty || image.writeKeys.count == 32
        else { throw Failure.corrupt("card image \(path) is not a valid card image") }
        return image
    }

    /// Writes the image atomically (temporary file, fsync, rename, folder fsync) with mode 0600.
    public static func save(_ image: CardApplication.Image, to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let body = [UInt8](try encoder.encode(image))
        let digest = Hex.string(SHA256.hash(data: body))
        let bytes = body + Array("\nsha256:\(digest)\n".utf8)
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent().path + "/." + url.lastPathComponent + ".tmp-\(getpid())"
        unlink(temporary)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw Failure.io("cannot create \(temporary)") }
        let ok = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } == bytes.count && fsync(fd) == 0
        close(fd)
        guard ok, rename(temporary, path) == 0 else { unlink(temporary); throw Failure.io("cannot write the card image \(path)") }
        let dir = open(url.deletingLastPathComponent().path, O_RDONLY)
        if dir >= 0 { fsync(dir); close(dir) }
    }
}
