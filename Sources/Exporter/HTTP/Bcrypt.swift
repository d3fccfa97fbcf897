import CCrypt
import LookoutSupport

/// bcrypt password hashes (`$2y$10$…`, as htpasswd and Go's x/crypto/bcrypt write them), checked
/// with libxcrypt's `crypt_rn` (crypt(3)): the hashes of `basic_auth_users` in `--web.config.file`.
enum Bcrypt {
    /// Go's `bcrypt.Cost` checks, with its messages (golang.org/x/crypto/bcrypt): nil when `hash`
    /// has the shape of a bcrypt hash, else why not. exporter-toolkit refuses a web configuration
    /// whose hashes fail this.
    static func problem(with hash: String) -> String? {
        let bytes = Array(hash.utf8)
        guard bytes.count >= 59 else { return "crypto/bcrypt: hashedSecret too short to be a bcrypted password" }
        guard bytes[0] == UInt8(ascii: "$") else {
            return "crypto/bcrypt: bcrypt hashes must start with '$', but hashedSecret started with '\(Character(Unicode.Scalar(bytes[0])))'"
        }
        guard bytes[1] <= UInt8(ascii: "2") else {
            return "crypto/bcrypt: bcrypt algorithm version '\(Character(Unicode.Scalar(bytes[1])))' requested is newer than current version '2'"
        }
        let costStart = bytes[2] == UInt8(ascii: "$") ? 3 : 4
        let costText = String(decoding: bytes[costStart..<costStart + 2], as: UTF8.self)
        guard let cost = Int(costText) else { return "strconv.Atoi: parsing \"\(costText)\": invalid syntax" }
        guard (4...31).contains(cost) else { return "crypto/bcrypt: cost \(cost) is outside allowed range (4,31)" }
        return nil
    }

    /// Whether `password` hashes to `hash`. The computed hash is compared with `hash` in constant
    /// time; a password with a NUL byte (which crypt(3) cannot take) or a hash crypt refuses
    /// matches nothing.
    static func matches(password: [UInt8], hash: String) -> Bool {
        guard !password.contains(0), !hash.utf8.contains(0) else { return false }
        // struct crypt_data is 32 KiB: on the heap, zeroed as crypt(3) asks before first use.
        let data = UnsafeMutablePointer<crypt_data>.allocate(capacity: 1)
        defer { data.deallocate() }
        UnsafeMutableRawPointer(data).initializeMemory(as: UInt8.self, repeating: 0, count: MemoryLayout<crypt_data>.size)
        let phrase = password.map { CChar(bitPattern: $0) } + [0]
        guard let computed = crypt_rn(phrase, hash, data, Int32(MemoryLayout<crypt_data>.size)) else { return false }
        let computedBytes = Array(String(cString: computed).utf8)
        return SecretFile.matches(computedBytes, secret: hash)
    }
}
