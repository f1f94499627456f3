import COpenSSL

/// AES-128-GCM with the truncated 12-byte tag DLMS security suite 0 uses (NIST SP 800-38D
/// allows 96-bit tags; swift-crypto's AES.GCM only takes 16-byte ones, so this goes through
/// OpenSSL's EVP interface).
public enum GCM {
    /// The tag length of suite 0.
    public static let tagLength = 12

    /// Encrypts `plaintext` (may be empty: then it is GMAC over `aad`) and returns the
    /// ciphertext and the 12-byte tag.
    public static func seal(key: [UInt8], iv: [UInt8], aad: [UInt8], plaintext: [UInt8]) throws(DLMSError) -> (ciphertext: [UInt8], tag: [UInt8]) {
        guard key.count == 16, iv.count == 12 else { throw .malformed("GCM key or IV size") }
        guard let ctx = EVP_CIPHER_CTX_new() else { throw .transport("OpenSSL: no cipher context") }
        defer { EVP_CIPHER_CTX_free(ctx) }
        var out = [UInt8](repeating: 0, count: plaintext.count + 16)
        var tag = [UInt8](repeating: 0, count: tagLength)
        var n: Int32 = 0
        var ok = EVP_EncryptInit_ex(ctx, EVP_aes_128_gcm(), nil, key, iv) == 1
        if ok, !aad.isEmpty { ok = EVP_EncryptUpdate(ctx, nil, &n, aad, Int32(aad.count)) == 1 }
        var written = 0
        if ok, !plaintext.isEmpty {
            ok = out.withUnsafeMutableBufferPointer { EVP_EncryptUpdate(ctx, $0.baseAddress, &n, plaintext, Int32(plaintext.count)) } == 1
            written = Int(n)
        }
        if ok {
            ok = out.withUnsafeMutableBufferPointer { EVP_EncryptFinal_ex(ctx, $0.baseAddress! + written, &n) } == 1
            written += Int(n)
        }
        if ok { ok = EVP_CIPHER_CTX_ctrl(ctx, 0x10 /* EVP_CTRL_GCM_GET_TAG */, Int32(tagLength), &tag) == 1 }
        guard ok else { throw .transport("OpenSSL: AES-GCM failed") }
        return (Array(out.prefix(written)), tag)
    }

    /// Decrypts and checks the tag; a wrong key, IV, AAD, ciphertext or tag is one error.
    public static func open(key: [UInt8], iv: [UInt8], aad: [UInt8], ciphertext: [UInt8], tag: [UInt8]) throws(DLMSError) -> [UInt8] {
        guard key.count == 16, iv.count == 12, tag.count == tagLength else { throw .authenticationFailed }
        guard let ctx = EVP_CIPHER_CTX_new() else { throw .transport("OpenSSL: no cipher context") }
        defer { EVP_CIPHER_CTX_free(ctx) }
        var out = [UInt8](repeating: 0, count: ciphertext.count + 16)
        var n: Int32 = 0
        var tagCopy = tag
        var ok = EVP_DecryptInit_ex(ctx, EVP_aes_128_gcm(), nil, key, iv) == 1
        if ok, !aad.isEmpty { ok = EVP_DecryptUpdate(ctx, nil, &n, aad, Int32(aad.count)) == 1 }
        var written = 0
        if ok, !ciphertext.isEmpty {
            ok = out.withUnsafeMutableBufferPointer { EVP_DecryptUpdate(ctx, $0.baseAddress, &n, ciphertext, Int32(ciphertext.count)) } == 1
            written = Int(n)
        }
        if ok { ok = EVP_CIPHER_CTX_ctrl(ctx, 0x11 /* EVP_CTRL_GCM_SET_TAG */, Int32(tagLength), &tagCopy) == 1 }
        // DecryptFinal is where OpenSSL compares the tag (in constant time).
        if ok { ok = out.withUnsafeMutableBufferPointer { EVP_DecryptFinal_ex(ctx, $0.baseAddress! + written, &n) } == 1 }
        guard ok else { throw .authenticationFailed }
        return Array(out.prefix(written))
    }
}
