#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Key bytes held in memory this process owns, wiped when the last reference goes.
///
/// Swift arrays may be copied by the runtime without notice, so long-lived secrets live here
/// instead, and are wiped with a write the optimiser may not remove.
final class SecretBytes: @unchecked Sendable {
    let buffer: UnsafeMutableRawBufferPointer

    init<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        buffer = .allocate(byteCount: max(bytes.count, 1), alignment: 16)
        buffer.copyBytes(from: bytes)
    }

    init(zeroedCount: Int) {
        buffer = .allocate(byteCount: max(zeroedCount, 1), alignment: 16)
        buffer.initializeMemory(as: UInt8.self, repeating: 0)
    }

    var count: Int { buffer.count }

    deinit {
        Self.wipe(buffer)
        buffer.deallocate()
    }

    /// Zeroes memory in a way the compiler cannot drop as a dead store.
    static func wipe(_ buffer: UnsafeMutableRawBufferPointer) {
        guard let base = buffer.baseAddress else { return }
        #if canImport(Glibc)
        explicit_bzero(base, buffer.count)
        #else
        let p = base.assumingMemoryBound(to: UInt8.self)
        for i in 0..<buffer.count { withUnsafeMutablePointer(to: &p[i]) { $0.pointee = 0 } }
        #endif
    }
}

/// Zeroes a byte array that held key text or key bytes before it is released.
public func wipe(_ bytes: inout [UInt8]) {
    bytes.withUnsafeMutableBytes { SecretBytes.wipe($0) }
    bytes.removeAll()
}
