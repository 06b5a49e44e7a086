#if canImport(Glibc)
import Glibc
#endif

/// The `Host:` values the status server answers; any other gets 403 and no body of interest.
///
/// Why: a DNS-rebinding page in an operator's browser resolves `attacker.example` to
/// 127.0.0.1 and reads `/status` and `/metrics` through the browser; the one thing it cannot
/// change is the `Host:` header, which names its own domain. So only names the server was
/// configured for are answered: its listen address, `localhost` when that is a loopback
/// address, and the extra names an operator gives (`--allow-host`, `KEK_STATUS_ALLOWED_HOSTS`).
/// A server listening on a wildcard address (0.0.0.0, ::) also answers any IP literal (a
/// rebinding attack always carries a domain name); scrapers that use a DNS name need it listed.
public struct HostAllowList: Sendable, Equatable {
    public private(set) var names: Set<String>
    public private(set) var anyIPLiteral: Bool

    /// The default list for a server listening on `listenHost`, plus `extraNames`.
    public init(listenHost: String, extraNames: [String] = []) {
        let listen = Self.normalized(listenHost)
        names = Set([listen] + extraNames.map(Self.normalized).filter { !$0.isEmpty })
        anyIPLiteral = listen == "0.0.0.0" || listen == "::"
        if Self.isLoopback(listen) { names.formUnion(["localhost", "127.0.0.1", "::1"]) }
    }

    /// Whether a request with this `Host:` header (nil when absent) is answered.
    public func allows(_ header: String?) -> Bool {
        guard let header, let host = Self.host(ofHeader: header) else { return false }
        return names.contains(host) || (anyIPLiteral && Self.isIPLiteral(host))
    }

    /// Whether `host` (numeric) is a loopback address: such a listener is reachable only
    /// from this machine, so reads may go without a token.
    public static func isLoopback(_ host: String) -> Bool {
        let host = normalized(host)
        return host == "::1" || host == "localhost" || (host.hasPrefix("127.") && isIPLiteral(host))
    }

    /// `host[:port]` or `[v6][:port]` to the lower-case host, or nil when malformed.
    static func host(ofHeader header: String) -> String? {
        var text = Substring(header.trimmingCharacters(in: " \t"))
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            let rest = text[text.index(after: close)...]
            guard rest.isEmpty || (rest.hasPrefix(":") && rest.dropFirst().allSatisfy(\.isNumber)) else { return nil }
            text = text[text.index(after: text.startIndex)..<close]
        } else if let colon = text.lastIndex(of: ":") {
            guard text[text.index(after: colon)...].allSatisfy(\.isNumber) else { return nil }
            text = text[..<colon]
        }
        let host = normalized(String(text))
        return host.isEmpty ? nil : host
    }

    static func normalized(_ host: String) -> String {
        var host = host.lowercased()
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if host.hasSuffix(".") { host.removeLast() }
        return host
    }

    static func isIPLiteral(_ host: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }
}

private extension String {
    func trimmingCharacters(in set: String) -> String {
        var scalars = Substring(self)
        while let first = scalars.first, set.contains(first) { scalars = scalars.dropFirst() }
        while let last = scalars.last, set.contains(last) { scalars = scalars.dropLast() }
        return String(scalars)
    }
}
