import Foundation

/// Polls `condition` every `interval` seconds until it holds or `timeout` seconds pass, then
/// checks it once more: tests wait for observed progress, never for a fixed time.
public func waitUntil(timeout: Double = 20, interval: Double = 0.05, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try condition() { return true }
        Thread.sleep(forTimeInterval: interval)
    }
    return try condition()
}

/// A test's own failure with a message a person can act on (a setup step that did not work).
public struct TestFailure: Error, CustomStringConvertible {
    public var description: String

    public init(description: String) { self.description = description }
}
