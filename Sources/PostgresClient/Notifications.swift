import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A `NOTIFY` received on a channel this connection listens on.
public struct PostgresNotification: Sendable, Equatable {
    public var channel: String
    public var payload: String
    public var senderPID: Int32
}

extension PostgresConnection {
    /// Starts listening on `channel`; the channel is quoted, never spliced raw into SQL,
    /// and listened to again after a reconnect.
    public func listen(_ channel: String) throws {
        try executeScript("LISTEN " + (try quoteIdentifier(channel)))
        rememberListen(channel)
    }

    /// Sends `payload` to every session listening on `channel`, when the current
    /// transaction commits.
    public func notify(_ channel: String, payload: String = "") throws {
        try execute("SELECT pg_notify($1, $2)", [channel, payload])
    }

    /// Waits up to `timeout` for a notification; nil when none came in time.
    ///
    /// Blocks the calling thread in `poll(2)` on the connection's socket, the way libpq's
    /// own examples do, so call it from a thread of work, not from an async task.
    public func waitForNotification(timeout: Duration) throws -> PostgresNotification? {
        try consumeInput()
        if let pending = nextNotification() { return pending }
        let deadline = ContinuousClock.now + timeout
        while true {
            let remaining = ContinuousClock.now.duration(to: deadline)
            guard remaining > .zero else { return nil }
            var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
            let milliseconds = Int32(clamping: remaining.components.seconds * 1000
                + remaining.components.attoseconds / 1_000_000_000_000_000 + 1)
            let ready = poll(&descriptor, 1, milliseconds)
            if ready < 0 && errno != EINTR {
                throw PostgresError(.connectionLost, message: "poll on connection to \(target) failed: errno \(errno)")
            }
            if ready > 0 {
                try consumeInput()
                if let notification = nextNotification() { return notification }
            }
        }
    }
}

extension PostgresConnection {
    /// True when something sits between this client and the server process it talks to (a
    /// pooler such as PgBouncer): the process id the client was given at connect then is not
    /// the server's own `pg_backend_pid()`. Behind a transaction-mode pool, `LISTEN` is
    /// accepted but notifications go to whichever session ran it, so they are not to be waited for.
    public func isBehindPooler() throws -> Bool {
        let serverPID: Int32 = try query("SELECT pg_backend_pid()")[0].decode(0)
        return serverPID != backendPID
    }
}
