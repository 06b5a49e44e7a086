internal import CPKCS11
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A PKCS#11 module (a vendor's shared library) loaded with `dlopen` and initialised once.
///
/// Why once per process: `C_Initialize` may be called only once until `C_Finalize`, and the
/// module's sessions and login state belong to the process. Every caller asking for the same
/// path gets the same object; it is initialised with `CKF_OS_LOCKING_OK` so the module may be
/// called from several threads (each with its own session). It is never finalised: the
/// process ends first.
public final class PKCS11Module: @unchecked Sendable {
    /// The path given to `dlopen`, to name the module in errors.
    public let path: String
    /// The module's function table; lives as long as the process (the library is never closed).
    let functions: UnsafeMutablePointer<CK_FUNCTION_LIST>
    /// Guards `loginSessions`.
    let loginLock = NSLock()
    /// Per slot, the session that logged the process in, kept open for the process's life.
    var loginSessions: [CK_SLOT_ID: CK_SESSION_HANDLE] = [:]

    private init(path: String, functions: UnsafeMutablePointer<CK_FUNCTION_LIST>) {
        self.path = path
        self.functions = functions
    }

    private static let registryLock = NSLock()
    nonisolated(unsafe) private static var loaded: [String: PKCS11Module] = [:]

    /// The module at `path`, loaded and initialised on first use.
    public static func load(path: String) throws -> PKCS11Module {
        registryLock.lock()
        defer { registryLock.unlock() }
        if let module = loaded[path] { return module }
        guard FileManager.default.fileExists(atPath: path) else {
            throw PKCS11Error.moduleNotLoadable(path: path, reason: "no such file (check module-path in the URI)")
        }
        guard let library = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
            throw PKCS11Error.moduleNotLoadable(path: path, reason: dlerror().map { String(cString: $0) } ?? "dlopen failed")
        }
        guard let symbol = dlsym(library, "C_GetFunctionList") else {
            dlclose(library)
            throw PKCS11Error.notAModule(path: path, reason: "it has no C_GetFunctionList")
        }
        let getFunctionList = unsafeBitCast(symbol, to: CK_C_GetFunctionList.self)
        var list: UnsafeMutablePointer<CK_FUNCTION_LIST>?
        let listed = getFunctionList(&list)
        guard listed == CK_RV(CKR_OK), let list else {
            throw PKCS11Error.call(function: "C_GetFunctionList", code: ReturnCode.name(listed), context: "module \(path)")
        }
        guard let initialize = list.pointee.C_Initialize else {
            throw PKCS11Error.notAModule(path: path, reason: "its function list has no C_Initialize")
        }
        var arguments = CK_C_INITIALIZE_ARGS()
        arguments.flags = CK_FLAGS(CKF_OS_LOCKING_OK)
        let initialized = withUnsafeMutablePointer(to: &arguments) { initialize(UnsafeMutableRawPointer($0)) }
        // Another library in this process may have initialised the module first: that is fine.
        guard initialized == CK_RV(CKR_OK) || initialized == CK_RV(CKR_CRYPTOKI_ALREADY_INITIALIZED) else {
            throw PKCS11Error.call(function: "C_Initialize", code: ReturnCode.name(initialized), context: "module \(path)")
        }
        let module = PKCS11Module(path: path, functions: list)
        loaded[path] = module
        return module
    }

    /// The function from the module's table, or an error naming it when the module lacks it.
    func function<F>(_ name: String, _ keyPath: KeyPath<CK_FUNCTION_LIST, F?>) throws -> F {
        guard let function = functions.pointee[keyPath: keyPath] else {
            throw PKCS11Error.notAModule(path: path, reason: "its function list has no \(name)")
        }
        return function
    }
}

/// Turns a return code into an error naming the function, the `CKR_` code and what was being done.
func check(_ code: CK_RV, _ function: String, _ context: @autoclosure () -> String) throws {
    guard code == CK_RV(CKR_OK) else {
        throw PKCS11Error.call(function: function, code: ReturnCode.name(code), context: context())
    }
}
