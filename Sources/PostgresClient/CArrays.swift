internal import CLibPQ
import Foundation

/// Owns the C arrays that `PQexecParams` reads, for the duration of one call only.
enum ParameterBuffers {
    static func with<R>(
        _ parameters: [(oid: UInt32, bytes: [UInt8]?)],
        _ body: (UnsafePointer<Oid>?, UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<Int32>?, UnsafePointer<Int32>?) -> R
    ) -> R {
        let types = parameters.map { Oid($0.oid) }
        let lengths = parameters.map { Int32($0.bytes?.count ?? 0) }
        let formats = [Int32](repeating: 1, count: parameters.count)
        var pointers: [UnsafePointer<CChar>?] = []
        pointers.reserveCapacity(parameters.count)
        var owned: [UnsafeMutableRawPointer] = []
        defer {
            // Parameters can be ciphertext of keys; leave no copy behind in freed memory.
            for (storage, parameter) in zip(owned, parameters.filter { $0.bytes != nil }) {
                storage.initializeMemory(as: UInt8.self, repeating: 0, count: parameter.bytes?.count ?? 0)
                storage.deallocate()
            }
        }
        for parameter in parameters {
            guard let bytes = parameter.bytes else {
                pointers.append(nil)
                continue
            }
            let storage = UnsafeMutableRawPointer.allocate(byteCount: max(bytes.count, 1), alignment: 1)
            bytes.withUnsafeBytes { if let base = $0.baseAddress { storage.copyMemory(from: base, byteCount: bytes.count) } }
            owned.append(storage)
            pointers.append(UnsafePointer(storage.assumingMemoryBound(to: CChar.self)))
        }
        return types.withUnsafeBufferPointer { t in
            lengths.withUnsafeBufferPointer { l in
                formats.withUnsafeBufferPointer { f in
                    pointers.withUnsafeBufferPointer { p in
                        body(t.baseAddress, p.baseAddress, l.baseAddress, f.baseAddress)
                    }
                }
            }
        }
    }
}
