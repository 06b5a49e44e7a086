import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A pthread that can be joined with a deadline.
///
/// Foundation's `Thread` cannot be joined, and `stop()` must be able to promise it returns
/// in bounded time even if a handler hangs: after the deadline the thread is detached
/// (it still holds its own references, so nothing is freed under it) and `join` reports false.
final class JoinableThread: Sendable {
    private let handle: pthread_t
    private let finished = DispatchSemaphore(value: 0)
    private let settled = Mutex(false)

    private typealias SetName = @convention(c) (pthread_t, UnsafePointer<CChar>?) -> Int32
    /// `pthread_setname_np`, looked up at run time because the Glibc module hides it behind `_GNU_SOURCE`.
    /// Named threads show up in `top -H` and debuggers.
    private static let setName: SetName? = dlsym(nil, "pthread_setname_np").map { unsafeBitCast($0, to: SetName.self) }

    private final class Context {
        let name: String
        let body: @Sendable () -> Void
        let finished: DispatchSemaphore

        init(name: String, body: @escaping @Sendable () -> Void, finished: DispatchSemaphore) {
            self.name = name
            self.body = body
            self.finished = finished
        }
    }

    /// Starts a thread named `name` (truncated to the 15 bytes Linux allows) running `body`.
    init(name: String, body: @escaping @Sendable () -> Void) throws {
        let context = Unmanaged.passRetained(Context(name: name, body: body, finished: finished)).toOpaque()
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, { raw in
            let context = Unmanaged<Context>.fromOpaque(raw!).takeRetainedValue()
            if let setName = JoinableThread.setName {
                _ = String(context.name.utf8.prefix(15))!.withCString { setName(pthread_self(), $0) }
            }
            context.body()
            context.finished.signal()
            return nil
        }, context)
        guard rc == 0 else {
            Unmanaged<Context>.fromOpaque(context).release()
            throw SocketError(operation: "pthread_create", code: rc)
        }
        handle = thread
    }

    /// Waits until the thread has finished or `timeout` has passed. Returns whether it finished.
    /// Must be called at most once; later calls return false.
    func join(timeout: Duration) -> Bool {
        let alreadySettled = settled.withLock { done in
            defer { done = true }
            return done
        }
        guard !alreadySettled else { return false }
        let deadline = DispatchTime.now() + .nanoseconds(Int(min(timeout.clampedNanoseconds, UInt64(Int.max))))
        if finished.wait(timeout: deadline) == .success {
            _ = pthread_join(handle, nil)
            return true
        }
        _ = pthread_detach(handle)
        return false
    }
}
