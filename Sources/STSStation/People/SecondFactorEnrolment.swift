import Foundation

/// A new user's second factor handed over in a file: the TOTP secret, base32 and a newline
/// (mode 0600), the form authenticator apps take. The file is made first (empty, never over
/// another file), so no station or user is created without somewhere to keep their second
/// factor; when the work or the writing fails, everything made is taken back.
extension Station {
    /// Creates a station (``create(path:name:admin:password:kekPath:now:passwordCost:testClock:)``)
    /// and writes its first supervisor's TOTP secret to `totpSecretOut`. All or nothing: when the
    /// secret cannot be written, the station's files (and a key-encryption key file made for it)
    /// are removed again.
    public static func create(path: String, name: String = "station", admin: String, password: [UInt8],
                              kekPath: String? = nil, now: Int64 = Int64(Date().timeIntervalSince1970),
                              passwordCost: Int = 15, testClock: Bool = false, totpSecretOut: String,
                              databasePasswordFile: String? = nil, publicKeyOut: String? = nil) throws -> Station {
        let secretFile = try PrivateFile.reserve(totpSecretOut)
        let kekFile = kekPath ?? defaultKEKPath(for: path)
        let kekExisted = FileManager.default.fileExists(atPath: kekFile)
        let (station, secret): (Station, [UInt8])
        do {
            (station, secret) = try create(path: path, name: name, admin: admin, password: password, kekPath: kekPath, now: now,
                                           passwordCost: passwordCost, testClock: testClock, databasePasswordFile: databasePasswordFile, publicKeyOut: publicKeyOut)
        } catch {
            secretFile.discard()
            throw error
        }
        do { try fill(secretFile, with: secret) } catch {
            secretFile.discard()
            station.removeFilesOfNewStation(createdKEK: kekExisted ? nil : kekFile, publicKeyOut: publicKeyOut)
            throw error
        }
        return station
    }

    /// Adds a user (``addUser(name:role:password:by:passwordCost:)``) and writes their TOTP
    /// secret to `totpSecretOut`. When the secret cannot be written the user is disabled again:
    /// without it they could never pass a second factor.
    public func addUser(name: String, role: Role, password: [UInt8], by actor: Actor, passwordCost: Int = 15, totpSecretOut: String) throws {
        let secretFile = try PrivateFile.reserve(totpSecretOut)
        let secret: [UInt8]
        do { secret = try addUser(name: name, role: role, password: password, by: actor, passwordCost: passwordCost) } catch {
            secretFile.discard()
            throw error
        }
        do { try Self.fill(secretFile, with: secret) } catch {
            secretFile.discard()
            try? disableUser(name: name, by: actor)
            throw error
        }
    }

    private static func fill(_ file: PrivateFile.Reserved, with secret: [UInt8]) throws {
        var text = Array((Base32.encode(secret) + "\n").utf8)
        defer { for i in text.indices { text[i] = 0 } }
        try file.fill(text)
    }
}
