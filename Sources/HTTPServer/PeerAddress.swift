import Glibc

/// The address of the client at the other end of a request's connection, as the kernel
/// reports it (`getpeername`). Unlike `X-Forwarded-For` or `User-Agent`, which the client
/// writes itself, this is what a handler can record about where a request came from (behind
/// a proxy it is the proxy's address).
public struct PeerAddress: Sendable, Hashable, CustomStringConvertible {
    public enum Family: Sendable, Hashable { case ipv4, ipv6 }

    public var family: Family
    /// The numeric address (`127.0.0.1`, `::1`), never a resolved name.
    public var host: String
    public var port: UInt16

    public init(family: Family, host: String, port: UInt16) {
        self.family = family
        self.host = host
        self.port = port
    }

    /// `127.0.0.1:52114`, or `[::1]:52114` for IPv6.
    public var description: String { family == .ipv6 ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// The peer of the connected socket `fd`; nil when it is not an IP socket or the call fails.
    static func of(socket fd: Int32) -> PeerAddress? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let rc = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(fd, $0, &length) }
        }
        guard rc == 0 else { return nil }
        return withUnsafePointer(to: &storage) { pointer -> PeerAddress? in
            switch Int32(pointer.pointee.ss_family) {
            case AF_INET:
                return pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { in4 in
                    return withUnsafePointer(to: in4.pointee.sin_addr) { numeric(AF_INET, $0) }.map {
                        PeerAddress(family: .ipv4, host: $0, port: UInt16(bigEndian: in4.pointee.sin_port))
                    }
                }
            case AF_INET6:
                return pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { in6 in
                    return withUnsafePointer(to: in6.pointee.sin6_addr) { numeric(AF_INET6, $0) }.map {
                        PeerAddress(family: .ipv6, host: $0, port: UInt16(bigEndian: in6.pointee.sin6_port))
                    }
                }
            default:
                return nil
            }
        }
    }

    private static func numeric(_ family: Int32, _ address: UnsafeRawPointer) -> String? {
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard inet_ntop(family, address, &text, socklen_t(text.count)) != nil else { return nil }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
